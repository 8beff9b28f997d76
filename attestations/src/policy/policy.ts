/**
 * The appraisal policy (format tag `veritee.policy/v1`): what verified evidence
 * must show to be accepted. Every permission is `allow*` and defaults to false;
 * a list left unset places no constraint. `parsePolicy` validates a JSON value
 * and names the first bad field.
 */
import { ConfigError } from '../errors.js';
import { fromHex } from '../bytes.js';
import { isSnpProduct, type SnpProduct, type SnpTcb } from '../snp/product.js';

export const POLICY_FORMAT = 'veritee.policy/v1';

export interface SnpPolicy {
  /** Allowed launch measurements (48 bytes, hex). Unset: any. */
  readonly measurements?: readonly string[];
  /** Allowed products. Unset: any. */
  readonly products?: readonly SnpProduct[];
  /** Allowed VMPLs. Unset: any. */
  readonly vmpls?: readonly number[];
  /** Minimum reported TCB per component. Unset components: no minimum. */
  readonly minimumTcb?: Partial<SnpTcb>;
  /** Accept a guest policy that allows SMT. Default false. */
  readonly allowSmt?: boolean;
  /** Accept a guest policy that allows a migration agent. Default false. */
  readonly allowMigrationAgent?: boolean;
  /** Report data the evidence must carry (64 bytes, hex). Unset: any. */
  readonly reportData?: string;
  /**
   * Seconds past its nextUpdate an AMD CRL is still used (when KDS cannot be
   * reached for a newer one); the result then carries the warning
   * SNP_CRL_STALE. Default 0: a CRL past its nextUpdate is refused.
   */
  readonly crlGraceSeconds?: number;
}

/** Allowed values of the PCRs that identify an enclave image (nitro-cli build-enclave output). */
export interface NitroPcrSet {
  readonly pcr0?: string;
  readonly pcr1?: string;
  readonly pcr2?: string;
  readonly pcr8?: string;
}

export interface NitroPolicy {
  /** The document must match at least one set, every PCR the set names. Unset: any. */
  readonly pcrs?: readonly NitroPcrSet[];
  /** Nonce the document must carry (hex). Unset: any. */
  readonly nonce?: string;
  /** Public key the document must carry (hex). Unset: any. */
  readonly publicKey?: string;
  /** User data the document must carry (hex). Unset: any. */
  readonly userData?: string;
}

export interface Policy {
  readonly format?: typeof POLICY_FORMAT;
  readonly id?: string;
  readonly version?: number;
  /** Accept debug evidence (SNP guest policy DEBUG; Nitro debug mode). Default false. */
  readonly allowDebug?: boolean;
  /** Accept SNP evidence whose chain could not be checked against a CRL. Default false. */
  readonly allowUncheckedRevocation?: boolean;
  /** Oldest evidence accepted, in seconds (Nitro timestamp). Unset: no limit beyond certificate validity. */
  readonly maxEvidenceAgeSeconds?: number;
  readonly snp?: SnpPolicy;
  readonly nitro?: NitroPolicy;
}

/** The policy applied when none is given: refuses debug, SMT, migration agents and unchecked revocation. */
export const DEFAULT_POLICY: Policy = { format: POLICY_FORMAT, id: 'default', version: 1 };

/**
 * Validates a JSON value as a policy.
 * @throws ConfigError POLICY_INVALID naming the bad field
 */
export function parsePolicy(value: unknown): Policy {
  const root = object(value, 'policy', [
    'format',
    'id',
    'version',
    'allowDebug',
    'allowUncheckedRevocation',
    'maxEvidenceAgeSeconds',
    'snp',
    'nitro',
  ]);
  if (root.format !== undefined && root.format !== POLICY_FORMAT)
    bad('format', `must be "${POLICY_FORMAT}"`);
  optional(root.id, 'id', (v, f) =>
    typeof v === 'string' && v.length > 0 && v.length <= 128
      ? v
      : bad(f, 'must be a string of 1 to 128 characters'),
  );
  optional(root.version, 'version', (v, f) => integerIn(v, f, 1, Number.MAX_SAFE_INTEGER));
  for (const flag of ['allowDebug', 'allowUncheckedRevocation'] as const)
    optional(root[flag], flag, boolean);
  optional(root.maxEvidenceAgeSeconds, 'maxEvidenceAgeSeconds', (v, f) =>
    integerIn(v, f, 1, 10 * 365 * 86400),
  );
  optional(root.snp, 'snp', (v, f) => {
    const snp = object(v, f, [
      'measurements',
      'products',
      'vmpls',
      'minimumTcb',
      'allowSmt',
      'allowMigrationAgent',
      'reportData',
      'crlGraceSeconds',
    ]);
    optional(snp.measurements, `${f}.measurements`, (list, g) =>
      array(list, g, (item, h) => hex(item, h, 48)),
    );
    optional(snp.products, `${f}.products`, (list, g) =>
      array(list, g, (item, h) =>
        isSnpProduct(item) ? item : bad(h, 'must be Milan, Genoa or Turin'),
      ),
    );
    optional(snp.vmpls, `${f}.vmpls`, (list, g) =>
      array(list, g, (item, h) => integerIn(item, h, 0, 3)),
    );
    optional(snp.minimumTcb, `${f}.minimumTcb`, (tcb, g) => {
      const parts = object(tcb, g, ['bootloader', 'tee', 'snp', 'microcode', 'fmc']);
      for (const [name, level] of Object.entries(parts)) integerIn(level, `${g}.${name}`, 0, 255);
    });
    for (const flag of ['allowSmt', 'allowMigrationAgent'] as const)
      optional(snp[flag], `${f}.${flag}`, boolean);
    optional(snp.reportData, `${f}.reportData`, (item, g) => hex(item, g, 64));
    optional(snp.crlGraceSeconds, `${f}.crlGraceSeconds`, (item, g) =>
      integerIn(item, g, 0, 30 * 86400),
    );
  });
  optional(root.nitro, 'nitro', (v, f) => {
    const nitro = object(v, f, ['pcrs', 'nonce', 'publicKey', 'userData']);
    optional(nitro.pcrs, `${f}.pcrs`, (list, g) =>
      array(list, g, (item, h) => {
        const set = object(item, h, ['pcr0', 'pcr1', 'pcr2', 'pcr8']);
        if (Object.keys(set).length === 0) bad(h, 'must name at least one PCR');
        for (const [name, pcr] of Object.entries(set)) hex(pcr, `${h}.${name}`, 48);
      }),
    );
    optional(nitro.nonce, `${f}.nonce`, (item, g) => hex(item, g, undefined));
    optional(nitro.publicKey, `${f}.publicKey`, (item, g) => hex(item, g, undefined));
    optional(nitro.userData, `${f}.userData`, (item, g) => hex(item, g, undefined));
  });
  return root;
}

function bad(field: string, problem: string): never {
  throw new ConfigError('POLICY_INVALID', `policy field ${field} ${problem}`);
}

function object(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad(field, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) bad(`${field}.${key.slice(0, 64)}`, 'is not a known field');
  }
  return value as Record<string, unknown>;
}

function optional(
  value: unknown,
  field: string,
  check: (value: unknown, field: string) => unknown,
): void {
  if (value !== undefined) check(value, field);
}

function boolean(value: unknown, field: string): boolean {
  return typeof value === 'boolean' ? value : bad(field, 'must be true or false');
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    bad(field, `must be an integer from ${min} to ${max}`);
  return value;
}

function array(
  value: unknown,
  field: string,
  check: (item: unknown, field: string) => unknown,
): void {
  if (!Array.isArray(value)) bad(field, 'must be an array');
  value.forEach((item, index) => check(item, `${field}[${index}]`));
}

function hex(value: unknown, field: string, bytes: number | undefined): string {
  const decoded = typeof value === 'string' && !value.startsWith('0x') ? fromHex(value) : undefined;
  if (decoded === undefined || (bytes !== undefined && decoded.byteLength !== bytes)) {
    bad(field, bytes === undefined ? 'must be hex' : `must be ${bytes} bytes of hex`);
  }
  return value as string;
}
