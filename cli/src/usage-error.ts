import { VeriteeError } from '@veritee/attestations';

/** A command line the CLI cannot act on; exit status 2. */
export class UsageError extends VeriteeError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}
