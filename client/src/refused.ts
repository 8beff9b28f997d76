/**
 * The client's refusal: evidence, an answer or a receipt that does not
 * establish what the client's policy demands. It carries every code found.
 */
import { ChainError } from '@veritee/attestations';

export class Refused extends ChainError {
  readonly codes: readonly string[];
  constructor(code: string, message: string, codes: readonly string[] = [code]) {
    super(code, message);
    this.name = 'Refused';
    this.codes = codes;
  }
}
