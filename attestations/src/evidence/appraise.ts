/**
 * Evidence in, verdict out: detects the format, parses, verifies the chain and
 * signatures, then evaluates the policy. Malformed or inauthentic evidence gives
 * a `reject` verdict carrying its error code; it never throws for bad evidence
 * and never accepts when any step fails. Collateral (VCEK, CRLs) comes from an
 * injected source, so this module does no I/O itself.
 */
import { EvidenceError, isVeriteeError } from '../errors.js';
import { toHex } from '../bytes.js';
import { canonicalEvidenceHash } from './evidence-hash.js';
import { parseCrl, type Crl } from '../x509.js';
import { defaultTrustStore, type TrustStore } from './trust.js';
import { parseSnpReport, SNP_REPORT_SIZE, type SnpReport } from '../snp/report.js';
import { findCert, parseSnpCertTable, type SnpCertEntry } from '../snp/cert-table.js';
import { parseEndorsement, parseEndorsementClaims } from '../snp/endorsement.js';
import { productFromCpuid, type SnpProduct, type SnpTcb } from '../snp/product.js';
import { verifySnp } from '../snp/verify.js';
import { parseNitroDocument, type NitroDocument } from '../nitro/document.js';
import { verifyNitro } from '../nitro/verify.js';
import { DEFAULT_POLICY, type Policy } from '../policy/policy.js';
import { evaluatePolicy, type VerifiedEvidence, type Violation } from '../policy/evaluate.js';
import { memoKey, recallOrVerify, type AppraisalMemo, type Remembered } from './appraisal-memo.js';

export type EvidenceFormat = 'sev-snp' | 'nitro';

/** Where SNP collateral comes from when the evidence does not carry it. */
export interface CollateralSource {
  /** The VCEK of a chip at a reported TCB (DER), or undefined when unavailable. */
  vcek(
    product: SnpProduct,
    chipId: Uint8Array,
    reportedTcb: bigint,
  ): Promise<Uint8Array | undefined>;
  /** The product's CRL for the VCEK or VLEK chain (DER), or undefined when unavailable. */
  crl(product: SnpProduct, kind: 'VCEK' | 'VLEK'): Promise<Uint8Array | undefined>;
}

export interface AppraiseOptions {
  /** The time of verification: certificates must be valid then and evidence age is measured to it. */
  readonly at: Date;
  /** Default {@link DEFAULT_POLICY}. */
  readonly policy?: Policy | undefined;
  /** Default: the real AMD and AWS roots only. */
  readonly trust?: TrustStore | undefined;
  /** Accept evidence chaining to a simulated (dev) anchor. Default false. */
  readonly allowSimulated?: boolean | undefined;
  /** Fetches what the evidence lacks; unset means only what is given is used. */
  readonly collateral?: CollateralSource | undefined;
  /**
   * Remembers verifications, to reuse while their certificates and CRLs stay
   * current (the policy is still evaluated every time). Not used together
   * with `collateral`, whose answers may change.
   */
  readonly memo?: AppraisalMemo | undefined;
}

export interface EvidenceInput {
  /** A raw SNP report, an SNP report followed by its certificate table, or a Nitro document. */
  readonly evidence: Uint8Array;
  /** SNP: the VCEK or VLEK (DER or PEM), when the evidence does not carry it. */
  readonly endorsement?: Uint8Array | string | undefined;
  /** SNP: the expected product. */
  readonly product?: SnpProduct | undefined;
  /** SNP: CRLs (DER or PEM) to check the chain against. */
  readonly crls?: ReadonlyArray<Uint8Array | string> | undefined;
}

export type FieldValue = string | number | Readonly<Record<string, number | string>>;

declare const acceptedBrand: unique symbol;

/**
 * What verified, policy-passing evidence says, as typed values. Consumers
 * decide on these (bytes compared as bytes), never on display strings.
 */
export interface Claims {
  readonly format: EvidenceFormat;
  /** True when the evidence chains to a simulated (dev) root. */
  readonly simulated: boolean;
  /**
   * SHA-256 of the canonical form of what the hardware signed (low-s signature;
   * SNP without its certificate table, Nitro untagged): one quote, one hash.
   */
  readonly evidenceHash: Uint8Array;
  /** SNP launch MEASUREMENT or Nitro PCR0: the code that runs (48 bytes). */
  readonly measurement: Uint8Array;
  /** The bytes the quote binds: SNP REPORT_DATA (64 bytes), Nitro user_data; undefined when absent. */
  readonly reportData: Uint8Array | undefined;
  /** SNP only: the product whose roots vouch for the chip. */
  readonly product?: SnpProduct;
  /** SNP only: the reported TCB, by component. */
  readonly tcb?: SnpTcb;
  /** SNP only: the chip's identifier (64 bytes; zero under a VLEK). */
  readonly chipId?: Uint8Array;
  /** SNP only: HOST_DATA (32 bytes). */
  readonly hostData?: Uint8Array;
  /** Nitro only: every PCR the document carries, by index. */
  readonly pcrs?: ReadonlyMap<number, Uint8Array>;
}

/**
 * Evidence that is authentic and passes the policy. Only {@link appraise}
 * creates one (the brand is not exported), so holding an `Accepted` means
 * verification ran. It is plain data and survives structured cloning, so a
 * worker thread of ours may appraise and hand it back.
 */
export interface Accepted {
  readonly verdict: 'accept';
  readonly format: EvidenceFormat;
  readonly simulated: boolean;
  readonly codes: readonly [];
  readonly violations: readonly [];
  /** What passed but deserves attention, e.g. SNP_CRL_STALE (a CRL used in its grace period). */
  readonly warnings: readonly string[];
  readonly claims: Claims;
  /** Display only: the parsed fields under the names of docs/formats.md. */
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly [acceptedBrand]: true;
}

/** Evidence that is malformed, inauthentic or fails the policy. */
export interface Rejected {
  readonly verdict: 'reject';
  readonly format: EvidenceFormat | 'unknown';
  /** True when the evidence chains to a simulated (dev) root. */
  readonly simulated: boolean;
  /** Every error and violation code; never empty. */
  readonly codes: readonly string[];
  readonly violations: readonly Violation[];
  /** Display only: the fields parsed before the appraisal stopped. */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** The error that stopped verification, if one did. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** The outcome of {@link appraise}. */
export type Appraisal = Accepted | Rejected;

/** Detects the evidence format from its first bytes; undefined when neither. */
export function detectFormat(bytes: Uint8Array): EvidenceFormat | undefined {
  const first = bytes[0];
  // 0x84: CBOR array of 4 (untagged COSE_Sign1); 0xd2: CBOR tag 18 (COSE_Sign1).
  if (first === 0x84 || first === 0xd2) return 'nitro';
  if (bytes.byteLength >= SNP_REPORT_SIZE) return 'sev-snp';
  return undefined;
}

/** Appraises evidence; resolves to an appraisal, never rejects for bad evidence. */
export async function appraise(input: EvidenceInput, options: AppraiseOptions): Promise<Appraisal> {
  const format = detectFormat(input.evidence);
  let fields: Record<string, FieldValue> = {};
  try {
    if (format === undefined) {
      throw new EvidenceError(
        'EVIDENCE_FORMAT_UNKNOWN',
        `evidence of ${input.evidence.byteLength} bytes is neither an SNP report nor a Nitro document`,
      );
    }
    const { memo } = options;
    const memoized =
      memo === undefined || options.collateral !== undefined
        ? undefined
        : {
            memo,
            key: memoKey({
              ...input,
              trust: options.trust ?? defaultTrustStore(),
              allowSimulated: options.allowSimulated === true,
              crlGraceSeconds: options.policy?.snp?.crlGraceSeconds ?? 0,
            }),
          };
    const verify = () =>
      verifyInput(format, input, options, (parsed) => {
        fields = parsed;
      });
    const known =
      memoized === undefined
        ? await verify()
        : await recallOrVerify(memoized.memo, memoized.key, options.at.getTime(), verify);
    const { verified } = known;
    fields = { ...known.fields };
    const violations = evaluatePolicy(verified, options.policy ?? DEFAULT_POLICY, options.at);
    if (violations.length > 0)
      return {
        verdict: 'reject',
        format,
        simulated: verified.simulated,
        codes: violations.map((violation) => violation.code),
        violations,
        fields,
      };
    return {
      verdict: 'accept',
      format,
      simulated: verified.simulated,
      codes: [],
      violations: [],
      warnings: verified.format === 'sev-snp' ? verified.warnings : [],
      claims: (known.claims ??= claimsOf(verified)),
      fields,
    } as unknown as Accepted;
  } catch (error) {
    const code = isVeriteeError(error) ? error.code : 'INTERNAL_ERROR';
    const message = isVeriteeError(error) ? error.message : 'verification failed unexpectedly';
    return {
      verdict: 'reject',
      format: format ?? 'unknown',
      simulated: false,
      codes: [code],
      violations: [],
      fields,
      error: { code, message },
    };
  }
}

/**
 * Parses and verifies evidence of `format`, telling `parsed` the fields read
 * so far (a rejection shows what was parsed before it stopped).
 */
async function verifyInput(
  format: EvidenceFormat,
  input: EvidenceInput,
  options: AppraiseOptions,
  parsed: (fields: Record<string, FieldValue>) => void,
): Promise<Remembered> {
  if (format === 'sev-snp') {
    const report = parseSnpReport(input.evidence.subarray(0, SNP_REPORT_SIZE));
    const reportFields = snpFields(report);
    parsed(reportFields);
    const table =
      input.evidence.byteLength > SNP_REPORT_SIZE
        ? parseSnpCertTable(input.evidence.subarray(SNP_REPORT_SIZE))
        : [];
    const verified = await verifySnpInput(report, table, input, options);
    const fields = {
      ...reportFields,
      product: verified.product,
      reported_tcb: { ...verified.reportedTcb },
    };
    return { verified, fields };
  }
  const document = parseNitroDocument(input.evidence);
  const fields = nitroFields(document);
  parsed(fields);
  const verified = verifyNitro(document, {
    trust: options.trust ?? defaultTrustStore(),
    at: options.at,
    allowSimulated: options.allowSimulated,
  });
  return { verified, fields };
}

async function verifySnpInput(
  report: SnpReport,
  table: readonly SnpCertEntry[],
  input: EvidenceInput,
  options: AppraiseOptions,
) {
  const carried = findCert(table, report.signingKey === 'VLEK' ? 'VLEK' : 'VCEK');
  let endorsementBytes = input.endorsement ?? carried;
  const product =
    input.product ?? (report.cpuid === undefined ? undefined : productFromCpuid(report.cpuid));
  if (
    endorsementBytes === undefined &&
    report.signingKey === 'VCEK' &&
    options.collateral !== undefined
  ) {
    if (product === undefined) {
      throw new EvidenceError(
        'SNP_PRODUCT_UNKNOWN',
        'a version 2 report does not name its product; give the product to fetch its VCEK',
      );
    }
    endorsementBytes = await options.collateral.vcek(product, report.chipId, report.reportedTcb);
  }
  if (endorsementBytes === undefined) {
    throw new EvidenceError(
      'SNP_ENDORSEMENT_MISSING',
      `no ${report.signingKey} certificate was given, carried or fetched`,
    );
  }
  const endorsement = parseEndorsement(endorsementBytes);
  const crls: Crl[] = (input.crls ?? []).map((crl) => parseCrl(crl));
  const carriedCrl = findCert(table, 'CRL');
  if (carriedCrl !== undefined) crls.push(parseCrl(carriedCrl));
  // The source's newest CRL is always asked for: a carried one counts only if it is not older.
  if (options.collateral !== undefined) {
    const claims = parseEndorsementClaims(endorsement);
    const fetched = await options.collateral.crl(product ?? claims.product, claims.kind);
    if (fetched !== undefined) crls.push(parseCrl(fetched));
  }
  return verifySnp(report, endorsement, {
    trust: options.trust ?? defaultTrustStore(),
    at: options.at,
    product: input.product,
    crls,
    allowSimulated: options.allowSimulated,
    crlGraceSeconds: options.policy?.snp?.crlGraceSeconds,
  });
}

/** Report fields under the names of docs/formats.md and the public vector index. */
export function snpFields(report: SnpReport): Record<string, FieldValue> {
  return {
    version: report.version,
    policy: `0x${report.policy.toString(16)}`,
    vmpl: report.vmpl,
    signing_key: report.signingKey,
    measurement: toHex(report.measurement),
    report_data: toHex(report.reportData),
    host_data: toHex(report.hostData),
    chip_id: toHex(report.chipId),
    report_id: toHex(report.reportId),
    reported_tcb_raw: `0x${report.reportedTcb.toString(16).padStart(16, '0')}`,
  };
}

/** Document fields under the names of docs/formats.md and the public vector index. */
export function nitroFields(document: NitroDocument): Record<string, FieldValue> {
  const { payload } = document;
  const fields: Record<string, FieldValue> = {
    module_id: payload.moduleId,
    digest: payload.digest,
    timestamp_ms: payload.timestamp,
  };
  for (const index of [0, 1, 2, 8]) {
    const value = payload.pcrs.get(index);
    if (value !== undefined) fields[`pcr${index}`] = toHex(value);
  }
  for (const [name, value] of [
    ['public_key', payload.publicKey],
    ['user_data', payload.userData],
    ['nonce', payload.nonce],
  ] as const) {
    if (value !== null) fields[name] = toHex(value);
  }
  return fields;
}

function claimsOf(verified: VerifiedEvidence): Claims {
  if (verified.format === 'sev-snp') {
    const { report } = verified;
    return {
      format: 'sev-snp',
      simulated: verified.simulated,
      evidenceHash: canonicalEvidenceHash(verified),
      measurement: report.measurement,
      reportData: report.reportData,
      product: verified.product,
      tcb: verified.reportedTcb,
      chipId: report.chipId,
      hostData: report.hostData,
    };
  }
  const { payload } = verified.document;
  return {
    format: 'nitro',
    simulated: verified.simulated,
    evidenceHash: canonicalEvidenceHash(verified),
    // A missing PCR0 is a policy violation (POLICY_DEBUG_ENABLED) unless debug is allowed.
    measurement: payload.pcrs.get(0) ?? new Uint8Array(48),
    reportData: payload.userData ?? undefined,
    pcrs: payload.pcrs,
  };
}

/**
 * The measurement evidence claims (SEV-SNP MEASUREMENT, Nitro PCR0), read
 * without verifying anything: for naming what an enclave runs (registering it,
 * warning about it), never for deciding whether to trust it.
 * @throws EvidenceError when the evidence parses as neither format
 */
export function claimedMeasurement(evidence: Uint8Array): Uint8Array {
  const format = detectFormat(evidence);
  if (format === 'sev-snp')
    return parseSnpReport(evidence.subarray(0, SNP_REPORT_SIZE)).measurement;
  if (format === 'nitro')
    return parseNitroDocument(evidence).payload.pcrs.get(0) ?? new Uint8Array(48);
  throw new EvidenceError(
    'EVIDENCE_FORMAT_UNKNOWN',
    `evidence of ${evidence.byteLength} bytes is neither an SNP report nor a Nitro document`,
  );
}

/** The measurement as lower-case hex, for display and for the JSON of logged statements. */
export function measurementHex(claims: Claims): string {
  return toHex(claims.measurement);
}
