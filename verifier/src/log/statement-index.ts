/**
 * What the log's search reads of each statement, taken from its entry (the
 * JSON the leaf hashes) when it is appended: its type, time, model hash and
 * measurement (a receipt's TEE measurement or a policy change's reference:
 * SEV-SNP measurement or Nitro PCR0). Stores keep these beside the entry, so
 * relying parties and auditors can find statements without a full scan.
 */
export interface IndexedFields {
  readonly typ: string;
  readonly iat: number | null;
  readonly modelHash: string | null;
  readonly measurement: string | null;
}

const hex = (value: unknown): string | null =>
  typeof value === 'string' && /^[0-9a-f]{2,256}$/.test(value) ? value : null;

/** The fields of one entry; an entry that is not a statement's JSON is indexed by position only. */
export function indexedFields(entry: Uint8Array): IndexedFields {
  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(entry));
    claims =
      typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    claims = {};
  }
  const object = (value: unknown) =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const reference = object(claims['reference']);
  return {
    typ: typeof claims['typ'] === 'string' ? claims['typ'].slice(0, 64) : 'unknown',
    iat: Number.isSafeInteger(claims['iat']) ? (claims['iat'] as number) : null,
    modelHash: hex(claims['model_hash']) ?? hex(reference['modelHash']),
    measurement:
      hex(object(claims['tee'])['measurement']) ??
      hex(reference['measurement']) ??
      hex(object(reference['pcrs'])['pcr0']),
  };
}

/** A search of the log: every given filter must match; newest first. */
export interface StatementQuery {
  readonly modelHash?: string | undefined;
  readonly measurement?: string | undefined;
  readonly typ?: string | undefined;
  /** Issued at or after, seconds since the epoch. */
  readonly since?: number | undefined;
  /** Issued before, seconds since the epoch. */
  readonly until?: number | undefined;
  /** Only entries before this index (the paging cursor). */
  readonly before?: number | undefined;
  readonly limit: number;
}

/** A statement as search and listing return it. */
export interface FoundStatement {
  readonly index: number;
  readonly id: string;
  readonly typ: string;
  readonly iat: number | null;
  /** The signed statement (compact JWS). */
  readonly receipt: string;
}
