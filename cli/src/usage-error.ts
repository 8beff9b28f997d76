import { VeriteeError } from '@veritee/attestations';

/** A command line the CLI cannot act on: code USAGE, exit status 64 (EX_USAGE). */
export class UsageError extends VeriteeError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
