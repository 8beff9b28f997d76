/** One interface over every TEE back end, real or simulated. */

export interface QuoteRequest {
  /** The 64 bytes the quote must carry: SNP REPORT_DATA, Nitro user_data. */
  readonly reportData: Uint8Array;
  /** Nitro only: the request nonce for the document's nonce field. */
  readonly nonce?: Uint8Array | undefined;
  /** Nitro only: the enclave key for the document's public_key field. */
  readonly publicKey?: Uint8Array | undefined;
}

export type TeeKind = 'sev-snp' | 'nitro';

export interface TeeProvider {
  /** Which evidence format the quotes are in. */
  readonly kind: TeeKind;
  /** True for the simulator: its quotes chain to a dev root. */
  readonly simulated: boolean;
  /** Human-readable description for start-up summaries. */
  readonly description: string;
  /** Evidence carrying its own endorsement: SNP report + certificate table, or a Nitro document. */
  quote(request: QuoteRequest): Promise<Uint8Array>;
}
