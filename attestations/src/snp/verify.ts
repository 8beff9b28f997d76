/**
 * Verification of an SEV-SNP report: endorsement chain (VCEK -> ASK -> ARK or
 * VLEK -> ASVK -> ARK) to a pinned anchor, product agreement, chip id and TCB
 * agreement with the endorsement, revocation against supplied CRLs, and the
 * report's ECDSA P-384 signature. Steps run in that order and the first failure
 * throws; a CRL that is simply not available is recorded, not hidden, and policy
 * decides whether that is acceptable.
 */
import { ChainError } from '../errors.js';
import { bytesEqual, isAllZero, reversed } from '../bytes.js';
import { assertLink, commonName, isIssuedBy, timeWindow, type TimeWindow } from '../chain.js';
import { checkCrl, type Certificate, type Crl } from '../x509.js';
import { isP384Key, verifyEs384 } from '../signature.js';
import { evidenceSignatures, signatureKey } from '../signature-memo.js';
import { markVerified, type Verified } from '../evidence/verified.js';
import type { SnpAnchor, TrustStore } from '../evidence/trust.js';
import { parseEndorsementClaims, type EndorsementClaims } from './endorsement.js';
import {
  decodeTcb,
  encodeTcb,
  hwidLength,
  productFromCpuid,
  type SnpProduct,
  type SnpTcb,
} from './product.js';
import {
  serializeSnpReport,
  SNP_SIGNED_SIZE,
  SNP_SIGNATURE_COMPONENT_SIZE,
  type SnpReport,
} from './report.js';

export interface SnpVerifyOptions {
  /** Anchors to accept. */
  readonly trust: TrustStore;
  /** The time at which every certificate and CRL must be valid. */
  readonly at: Date;
  /** The product the caller expects; unset means any product whose anchor signs the chain. */
  readonly product?: SnpProduct | undefined;
  /** CRLs to check the chain against (AMD KDS serves one per product, signed by the ARK). */
  readonly crls?: readonly Crl[] | undefined;
  /** Accept a chain ending in a simulated (dev) anchor. Default false. */
  readonly allowSimulated?: boolean | undefined;
  /** Seconds past its nextUpdate a CRL is still used, with a warning. Default 0. */
  readonly crlGraceSeconds?: number | undefined;
}

/** Whether the chain was checked against a CRL from its root. */
export type RevocationStatus = 'checked' | 'unavailable';

/** A report whose signature and chain were verified. */
export interface SnpEvidence {
  readonly format: 'sev-snp';
  readonly report: SnpReport;
  readonly product: SnpProduct;
  readonly endorsement: Certificate;
  readonly claims: EndorsementClaims;
  readonly reportedTcb: SnpTcb;
  readonly revocation: RevocationStatus;
  /** What passed but deserves attention (SNP_CRL_STALE). */
  readonly warnings: readonly string[];
  readonly simulated: boolean;
  /** When this verification holds: the certificates' validity and the CRLs' currency, or grace. */
  readonly window: TimeWindow;
}

/**
 * Verifies `report` as signed by `endorsement` (its VCEK or VLEK).
 * @throws ChainError SNP_REPORT_UNSIGNED, SNP_ENDORSEMENT_KIND_MISMATCH, SNP_CHAIN_UNTRUSTED,
 *   SNP_SIMULATED_NOT_ALLOWED, SNP_PRODUCT_MISMATCH, SNP_CHIP_ID_MISMATCH, SNP_TCB_MISMATCH,
 *   SNP_CERT_REVOKED, SNP_CRL_INVALID, SNP_REPORT_BAD_SIGNATURE, SNP_ENDORSEMENT_KEY_INVALID and
 *   the chain codes of {@link assertLink}
 * @throws EvidenceError SNP_ENDORSEMENT_EXTENSION_INVALID
 */
export function verifySnp(
  report: SnpReport,
  endorsement: Certificate,
  options: SnpVerifyOptions,
): Verified<SnpEvidence> {
  const { at } = options;
  if (report.signingKey === 'NONE')
    throw new ChainError('SNP_REPORT_UNSIGNED', 'report says no key signed it');
  const claims = parseEndorsementClaims(endorsement);
  if (claims.kind !== report.signingKey) {
    throw new ChainError(
      'SNP_ENDORSEMENT_KIND_MISMATCH',
      `report is signed by a ${report.signingKey}; the endorsement is a ${claims.kind}`,
    );
  }

  const anchor = findAnchor(endorsement, claims.kind, options.trust);
  if (anchor === undefined)
    throw new ChainError(
      'SNP_CHAIN_UNTRUSTED',
      `no trusted ${claims.kind === 'VCEK' ? 'ASK' : 'ASVK'} issued the ${claims.kind}`,
    );
  if (anchor.simulated && options.allowSimulated !== true) {
    throw new ChainError(
      'SNP_SIMULATED_NOT_ALLOWED',
      'the chain ends in a simulated (dev) root, and simulated evidence is not allowed',
    );
  }
  const intermediate = claims.kind === 'VCEK' ? anchor.ask : anchor.asvk;
  assertLink(anchor.ark, anchor.ark, at, 'SNP');
  assertLink(intermediate, anchor.ark, at, 'SNP');
  assertLink(endorsement, intermediate, at, 'SNP');

  const product = anchor.product;
  assertProduct(product, claims, report, options.product);

  if (claims.kind === 'VCEK' && !report.maskChipKey) {
    const chipId = report.chipId.subarray(0, hwidLength(product));
    if (claims.hwid === undefined || !bytesEqual(claims.hwid, chipId)) {
      throw new ChainError(
        'SNP_CHIP_ID_MISMATCH',
        "the VCEK's hwID differs from the report's chip id",
      );
    }
  }
  const reportedTcb = decodeTcb(report.reportedTcb, product);
  // Comparing raw values also rejects non-zero reserved bytes in the reported TCB.
  if (encodeTcb(claims.tcb, product) !== report.reportedTcb) {
    throw new ChainError(
      'SNP_TCB_MISMATCH',
      `reported TCB ${describeTcb(reportedTcb)} differs from the endorsement's ${describeTcb(claims.tcb)}`,
    );
  }

  const { revocation, warnings, crlWindows } = checkRevocation(
    [endorsement, intermediate],
    anchor,
    options.crls ?? [],
    at,
    options.crlGraceSeconds ?? 0,
  );
  assertReportSignature(report, endorsement);
  return markVerified({
    format: 'sev-snp',
    report,
    product,
    endorsement,
    claims,
    reportedTcb,
    revocation,
    warnings,
    simulated: anchor.simulated,
    window: timeWindow([anchor.ark, intermediate, endorsement], crlWindows),
  });
}

function findAnchor(
  endorsement: Certificate,
  kind: 'VCEK' | 'VLEK',
  trust: TrustStore,
): SnpAnchor | undefined {
  return trust.snp.find((anchor) => {
    const intermediate = kind === 'VCEK' ? anchor.ask : anchor.asvk;
    return isIssuedBy(endorsement, intermediate);
  });
}

function assertProduct(
  product: SnpProduct,
  claims: EndorsementClaims,
  report: SnpReport,
  expected: SnpProduct | undefined,
): void {
  const fromCpuid = report.cpuid === undefined ? undefined : productFromCpuid(report.cpuid);
  const disagreements = [
    claims.product !== product ? `endorsement names ${claims.product}` : undefined,
    fromCpuid !== undefined && fromCpuid !== product
      ? `report CPUID names ${fromCpuid}`
      : undefined,
    expected !== undefined && expected !== product ? `caller expects ${expected}` : undefined,
  ].filter((text) => text !== undefined);
  if (disagreements.length > 0) {
    throw new ChainError(
      'SNP_PRODUCT_MISMATCH',
      `chain is ${product} but ${disagreements.join(', ')}`,
    );
  }
}

/**
 * Checks the chain against the newest authentic CRL of each issuer among
 * those given (carried in the evidence, given by the caller, fetched by a
 * collateral source): an older CRL, from before a revocation, never hides it
 * while a newer one is known. A CRL claiming an issuer whose key did not sign
 * it stops verification. The newest must be current at `at`, or past its
 * nextUpdate by at most `graceSeconds` (then with the warning SNP_CRL_STALE).
 */
function checkRevocation(
  certs: readonly Certificate[],
  anchor: SnpAnchor,
  crls: readonly Crl[],
  at: Date,
  graceSeconds: number,
): { revocation: RevocationStatus; warnings: string[]; crlWindows: TimeWindow[] } {
  const warnings: string[] = [];
  // Which CRL is newest, and whether it is authentic, does not depend on `at`; its currency does.
  const crlWindows: TimeWindow[] = [];
  let rootCrlChecked = false;
  for (const issuer of [anchor.ark, anchor.ask, anchor.asvk]) {
    let newest: Crl | undefined;
    for (const crl of crls) {
      const problem = checkCrl(crl, issuer, at);
      if (problem === 'ISSUER_MISMATCH') continue;
      if (problem === 'BAD_SIGNATURE')
        throw new ChainError(
          'SNP_CRL_INVALID',
          `CRL naming ${commonName(issuer)} is not signed by it`,
        );
      if (newest === undefined || crl.thisUpdate.getTime() > newest.thisUpdate.getTime())
        newest = crl;
    }
    if (newest === undefined) continue;
    const problem = checkCrl(newest, issuer, at);
    if (problem === 'EXPIRED') {
      const overdueMs = at.getTime() - (newest.nextUpdate?.getTime() ?? at.getTime());
      if (overdueMs > graceSeconds * 1000)
        throw new ChainError(
          'SNP_CRL_INVALID',
          `the newest CRL of ${commonName(issuer)} expired ${Math.ceil(overdueMs / 1000)} s ago`,
        );
      warnings.push('SNP_CRL_STALE');
      const nextUpdate = newest.nextUpdate?.getTime() ?? at.getTime();
      crlWindows.push({ from: nextUpdate + 1, until: nextUpdate + graceSeconds * 1000 });
    } else if (problem !== undefined)
      throw new ChainError(
        'SNP_CRL_INVALID',
        `CRL issued by ${commonName(issuer)} is unusable: ${problem}`,
      );
    else
      crlWindows.push({
        from: newest.thisUpdate.getTime(),
        until: newest.nextUpdate?.getTime() ?? Infinity,
      });
    if (issuer === anchor.ark) rootCrlChecked = true;
    const revoked = certs.find(
      (cert) => cert.issuer === issuer.subject && newest.revokedSerials.has(cert.serialNumber),
    );
    if (revoked !== undefined)
      throw new ChainError(
        'SNP_CERT_REVOKED',
        `${commonName(revoked)} with serial ${revoked.serialNumber} is revoked`,
      );
  }
  return {
    revocation: rootCrlChecked ? 'checked' : 'unavailable',
    warnings: [...new Set(warnings)],
    crlWindows,
  };
}

function assertReportSignature(report: SnpReport, endorsement: Certificate): void {
  if (!isP384Key(endorsement.publicKey)) {
    throw new ChainError('SNP_ENDORSEMENT_KEY_INVALID', 'endorsement key is not ECDSA P-384');
  }
  const signature = p1363Signature(report);
  const signed = serializeSnpReport(report).subarray(0, SNP_SIGNED_SIZE);
  if (
    signature === undefined ||
    !evidenceSignatures.remember(
      signatureKey('snp', signed, signature, endorsement.fingerprint),
      () => verifyEs384(signed, endorsement.publicKey, signature),
    )
  )
    throw new ChainError(
      'SNP_REPORT_BAD_SIGNATURE',
      'report signature does not verify with the endorsement key',
    );
}

// r and s are 72-byte little-endian fields; a P-384 value needs 48 bytes, the rest must be zero.
function p1363Signature(report: SnpReport): Uint8Array | undefined {
  const size = 48;
  const parts = [report.signatureR, report.signatureS].map((component) => {
    if (!isAllZero(component.subarray(size, SNP_SIGNATURE_COMPONENT_SIZE))) return undefined;
    return reversed(component.subarray(0, size));
  });
  const [r, s] = parts;
  if (r === undefined || s === undefined) return undefined;
  return Buffer.concat([r, s]);
}

function describeTcb(tcb: SnpTcb): string {
  const fmc = tcb.fmc === undefined ? '' : ` fmc=${tcb.fmc}`;
  return `(bootloader=${tcb.bootloader} tee=${tcb.tee} snp=${tcb.snp} microcode=${tcb.microcode}${fmc})`;
}
