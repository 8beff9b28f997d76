/**
 * What an appraisal needs that SEV-SNP evidence may not carry: the VCEK of its
 * chip and TCB, and the newest CRL of its product. Resolved on the main thread
 * from the verifier's one collateral source (single flight and caches live
 * there), then handed to the appraisal with the evidence, so worker threads
 * never reach the network. Evidence that does not parse gets nothing here; the
 * appraisal then says why it is malformed.
 */
import { detectFormat, type CollateralSource } from '@veritee/attestations/evidence';
import {
  findCert,
  parseEndorsement,
  parseEndorsementClaims,
  parseSnpCertTable,
  parseSnpReport,
  productFromCpuid,
  SNP_REPORT_SIZE,
} from '@veritee/attestations/snp';

export interface Collateral {
  /** The VCEK, when the evidence does not carry one and the source has it. */
  readonly endorsement?: Uint8Array;
  /** The newest CRL the source knows for the product. */
  readonly crls: readonly Uint8Array[];
}

/**
 * @throws UpstreamError KDS_UNAVAILABLE when a VCEK the evidence lacks cannot be fetched (retry later)
 */
export async function resolveCollateral(
  evidence: Uint8Array,
  source: CollateralSource,
): Promise<Collateral> {
  if (detectFormat(evidence) !== 'sev-snp') return { crls: [] };
  let report;
  let table;
  try {
    report = parseSnpReport(evidence.subarray(0, SNP_REPORT_SIZE));
    table =
      evidence.byteLength > SNP_REPORT_SIZE
        ? parseSnpCertTable(evidence.subarray(SNP_REPORT_SIZE))
        : [];
  } catch {
    return { crls: [] };
  }
  if (report.signingKey === 'NONE') return { crls: [] };
  const carried = findCert(table, report.signingKey);
  let product = report.cpuid === undefined ? undefined : productFromCpuid(report.cpuid);
  let endorsement: Uint8Array | undefined;
  if (carried === undefined && report.signingKey === 'VCEK' && product !== undefined)
    endorsement = await source.vcek(product, report.chipId, report.reportedTcb);
  const known = carried ?? endorsement;
  if (product === undefined && known !== undefined) {
    try {
      product = parseEndorsementClaims(parseEndorsement(known)).product;
    } catch {
      return { crls: [], ...(endorsement === undefined ? {} : { endorsement }) };
    }
  }
  const crl = product === undefined ? undefined : await source.crl(product, report.signingKey);
  return {
    ...(endorsement === undefined ? {} : { endorsement }),
    crls: crl === undefined ? [] : [crl],
  };
}
