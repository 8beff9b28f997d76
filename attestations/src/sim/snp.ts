/**
 * Simulated SEV-SNP reports: laid out byte for byte as the ABI defines, signed
 * ECDSA P-384/SHA-384 by a VCEK (or VLEK) that the dev ASK (or ASVK) issued with
 * the real AMD extension OIDs and encodings, and carried with their certificate
 * table (endorsement, intermediate, ARK and an ARK-signed CRL) so that the
 * evidence needs no other file.
 */
import { createHash, KeyObject } from 'node:crypto';
import { signEs384 } from '../signature.js';
import { reversed } from '../bytes.js';
import type { Certificate } from '../x509.js';
import { generateIssuingKeyPair, issueCertificate, issueCrl } from './x509-issue.js';
import { AMD_OID } from '../snp/endorsement.js';
import {
  cpuidOfProduct,
  encodeTcb,
  hwidLength,
  type SnpProduct,
  type SnpTcb,
} from '../snp/product.js';
import {
  serializeSnpReport,
  SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384,
  SNP_SIGNED_SIZE,
  type SnpReport,
  type SnpReportVersion,
  type SnpSigningKey,
} from '../snp/report.js';
import { serializeSnpCertTable, SNP_CERT_GUIDS } from '../snp/cert-table.js';
import { SNP_GUEST_POLICY } from '../policy/evaluate.js';
import { randomSerial, signerOf, type DevPki, type IssuingCa } from './pki.js';
import { memoizeAsync } from './memo.js';

/** Guest policy of a simulated guest by default: ABI 0.0, bit 17 (must be one), no SMT, no debug, no migration agent. */
export const SIM_DEFAULT_GUEST_POLICY = 1n << 17n;
/** TCB of a simulated platform by default. */
export const SIM_DEFAULT_TCB: SnpTcb = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };
/** Launch measurement of a simulated guest by default: SHA-384 of this label. */
export const SIM_DEFAULT_MEASUREMENT = new Uint8Array(
  createHash('sha384').update('veritee simulated guest').digest(),
);

export interface SnpSimulationOptions {
  /** Time the evidence is produced; the endorsement and CRL are valid around it. */
  readonly at: Date;
  readonly product?: SnpProduct;
  /** Default 5. */
  readonly version?: SnpReportVersion;
  readonly reportData?: Uint8Array;
  readonly measurement?: Uint8Array;
  readonly hostData?: Uint8Array;
  /** Guest policy; default {@link SIM_DEFAULT_GUEST_POLICY}. */
  readonly policy?: bigint;
  /** Sets the DEBUG bit of the guest policy. */
  readonly debug?: boolean;
  /** Default 0. */
  readonly vmpl?: number;
  /** Reported TCB; default {@link SIM_DEFAULT_TCB} (with fmc 1 on Turin). */
  readonly tcb?: SnpTcb;
  /** Default: a chip id derived from the product name. */
  readonly chipId?: Uint8Array;
  /** Default VCEK. */
  readonly signingKey?: Exclude<SnpSigningKey, 'NONE'>;
  readonly maskChipKey?: boolean;
  /** Failure knobs: what the endorsement says instead of the truth. */
  readonly endorsement?: {
    readonly validity?: { readonly notBefore: Date; readonly notAfter: Date };
    readonly chipId?: Uint8Array;
    readonly tcb?: SnpTcb;
  };
  /** Failure knob: the product the report's CPUID fields claim. */
  readonly cpuidProduct?: SnpProduct;
  /** Serials (hex) the CRLs list as revoked. */
  readonly revoked?: readonly string[];
  /** Revoke the endorsement itself (listed on an ASK/ASVK-signed CRL). */
  readonly revokeEndorsement?: boolean;
}

export interface SimulatedSnp {
  readonly report: SnpReport;
  /** The 1184-byte report. */
  readonly reportBytes: Uint8Array;
  readonly certTable: Uint8Array;
  /** Report followed by its certificate table: evidence that carries its own endorsement. */
  readonly evidence: Uint8Array;
  readonly endorsement: Certificate;
  /** The CRL in the table (ARK-signed), and an ASK/ASVK-signed CRL when the endorsement is revoked. */
  readonly crls: readonly Uint8Array[];
}

interface Endorsement {
  readonly certificate: Certificate;
  readonly signingKey: KeyObject;
}

/** Default chip id of a product: SHA-512 of a label, so evidence is stable across runs. */
export function simulatedChipId(product: SnpProduct): Uint8Array {
  return new Uint8Array(createHash('sha512').update(`veritee simulated ${product} chip`).digest());
}

const DAY = 86_400_000;

/** Produces SEV-SNP evidence; endorsement keys are cached per chip, TCB and validity. */
export function createSnpSimulator(pki: DevPki) {
  const endorsementFor = memoizeAsync(
    (request: EndorsementRequest) =>
      [
        request.product,
        request.kind,
        Buffer.from(request.chipId).toString('hex'),
        encodeTcb(request.tcb, request.product).toString(16),
        request.validity.notBefore.toISOString(),
        request.validity.notAfter.toISOString(),
      ].join('|'),
    (request: EndorsementRequest) =>
      issueEndorsement(pki.snp[request.product][request.kind === 'VCEK' ? 'ask' : 'asvk'], request),
  );

  // A CRL is issued once per issuer, day and revocation list.
  const crlFor = memoizeAsync(
    (issuer: IssuingCa, dayStart: Date, revoked: readonly string[]) =>
      [issuer.certificate.fingerprint, dayStart.toISOString(), ...revoked].join('|'),
    (issuer: IssuingCa, dayStart: Date, revoked: readonly string[]) =>
      issueCrl({
        issuer: signerOf(issuer),
        thisUpdate: new Date(dayStart.getTime() - DAY),
        nextUpdate: new Date(dayStart.getTime() + 8 * DAY),
        revokedSerials: revoked,
      }),
  );

  return async function simulateSnp(options: SnpSimulationOptions): Promise<SimulatedSnp> {
    const product = options.product ?? 'Milan';
    const version = options.version ?? 5;
    const kind = options.signingKey ?? 'VCEK';
    const tcb =
      options.tcb ?? (product === 'Turin' ? { ...SIM_DEFAULT_TCB, fmc: 1 } : SIM_DEFAULT_TCB);
    const chipId = options.chipId ?? simulatedChipId(product);
    // Endorsements are issued for whole days, so evidence produced through a day shares one key.
    const dayStart = new Date(Math.floor(options.at.getTime() / DAY) * DAY);
    const validity = options.endorsement?.validity ?? {
      notBefore: new Date(dayStart.getTime() - DAY),
      notAfter: new Date(dayStart.getTime() + 7 * 365 * DAY),
    };
    const endorsement = await endorsementFor({
      product,
      kind,
      chipId: options.endorsement?.chipId ?? chipId,
      tcb: options.endorsement?.tcb ?? tcb,
      validity,
    });

    const rawTcb = encodeTcb(tcb, product);
    const reportData = options.reportData ?? new Uint8Array(64);
    const unsigned: SnpReport = {
      version,
      guestSvn: 0,
      policy:
        (options.policy ?? SIM_DEFAULT_GUEST_POLICY) |
        (options.debug === true ? SNP_GUEST_POLICY.DEBUG : 0n),
      familyId: new Uint8Array(16),
      imageId: new Uint8Array(16),
      vmpl: options.vmpl ?? 0,
      signatureAlgo: SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384,
      currentTcb: rawTcb,
      platformInfo: 0n,
      authorKeyEn: false,
      maskChipKey: options.maskChipKey ?? false,
      signingKey: kind,
      reportData,
      measurement: options.measurement ?? SIM_DEFAULT_MEASUREMENT,
      hostData: options.hostData ?? new Uint8Array(32),
      idKeyDigest: new Uint8Array(48),
      authorKeyDigest: new Uint8Array(48),
      reportId: new Uint8Array(createHash('sha256').update(chipId).update(reportData).digest()),
      reportIdMa: new Uint8Array(32).fill(0xff),
      reportedTcb: rawTcb,
      cpuid: version >= 3 ? cpuidOfProduct(options.cpuidProduct ?? product) : undefined,
      // A masked chip id, and every VLEK-signed report, carry zeros (ABI Table 23, CHIP_ID).
      chipId: options.maskChipKey === true || kind === 'VLEK' ? new Uint8Array(64) : chipId,
      committedTcb: rawTcb,
      currentVersion: { build: 21, minor: 55, major: 1 },
      committedVersion: { build: 21, minor: 55, major: 1 },
      launchTcb: rawTcb,
      launchMitVector: version >= 5 ? 0n : undefined,
      currentMitVector: version >= 5 ? 0n : undefined,
      signatureR: new Uint8Array(72),
      signatureS: new Uint8Array(72),
    };
    const signed = serializeSnpReport(unsigned).subarray(0, SNP_SIGNED_SIZE);
    const signature = await signEs384(signed, endorsement.signingKey);
    const report: SnpReport = {
      ...unsigned,
      signatureR: littleEndian72(signature.subarray(0, 48)),
      signatureS: littleEndian72(signature.subarray(48)),
    };
    const reportBytes = serializeSnpReport(report);

    const { ark } = pki.snp[product];
    const intermediate = pki.snp[product][kind === 'VCEK' ? 'ask' : 'asvk'];
    const revoked = [
      ...(options.revoked ?? []),
      ...(options.revokeEndorsement === true ? [endorsement.certificate.serialNumber] : []),
    ];
    const crls = [await crlFor(ark, dayStart, revoked)];
    // AMD's ARK-signed CRL covers what the ARK issued; a revoked VCEK is listed by its issuer.
    if (revoked.includes(endorsement.certificate.serialNumber))
      crls.push(await crlFor(intermediate, dayStart, revoked));
    const certTable = serializeSnpCertTable([
      {
        guid: kind === 'VCEK' ? SNP_CERT_GUIDS.VCEK : SNP_CERT_GUIDS.VLEK,
        data: endorsement.certificate.der,
      },
      { guid: SNP_CERT_GUIDS.ASK, data: intermediate.certificate.der },
      { guid: SNP_CERT_GUIDS.ARK, data: ark.certificate.der },
      ...crls.slice(0, 1).map((crl) => ({ guid: SNP_CERT_GUIDS.CRL, data: crl })),
    ]);
    const evidence = new Uint8Array(reportBytes.length + certTable.length);
    evidence.set(reportBytes);
    evidence.set(certTable, reportBytes.length);
    return { report, reportBytes, certTable, evidence, endorsement: endorsement.certificate, crls };
  };
}

export type SnpSimulator = ReturnType<typeof createSnpSimulator>;

/** What an endorsement certifies: a chip (or, for a VLEK, a provider) at a TCB, for a while. */
interface EndorsementRequest {
  readonly product: SnpProduct;
  readonly kind: 'VCEK' | 'VLEK';
  readonly chipId: Uint8Array;
  readonly tcb: SnpTcb;
  readonly validity: { readonly notBefore: Date; readonly notAfter: Date };
}

async function issueEndorsement(
  issuer: IssuingCa,
  { product, kind, chipId, tcb, validity }: EndorsementRequest,
): Promise<Endorsement> {
  const keys = await generateIssuingKeyPair('ECDSA-SHA384');
  const spl = (value: number) => derInteger(value);
  const extensions = [
    { oid: AMD_OID.structVersion, value: derInteger(0) },
    // KDS names VCEKs by product and stepping, VLEKs by product alone.
    { oid: AMD_OID.productName, value: derIa5String(kind === 'VCEK' ? `${product}-B0` : product) },
    { oid: AMD_OID.bootloader, value: spl(tcb.bootloader) },
    { oid: AMD_OID.tee, value: spl(tcb.tee) },
    { oid: AMD_OID.spl4, value: spl(0) },
    { oid: AMD_OID.spl5, value: spl(0) },
    { oid: AMD_OID.spl6, value: spl(0) },
    { oid: AMD_OID.spl7, value: spl(0) },
    { oid: AMD_OID.snp, value: spl(tcb.snp) },
    { oid: AMD_OID.microcode, value: spl(tcb.microcode) },
    ...(product === 'Turin' ? [{ oid: AMD_OID.fmc, value: spl(tcb.fmc ?? 0) }] : []),
    // KDS puts the raw hwID bytes in the extension, without an OCTET STRING header.
    kind === 'VCEK'
      ? { oid: AMD_OID.hwid, value: chipId.subarray(0, hwidLength(product)) }
      : { oid: AMD_OID.cspId, value: derIa5String('veritee-simulator') },
  ];
  const certificate = await issueCertificate(
    {
      subject: `CN=SEV-${kind}, O=Veritee Simulator, C=US`,
      serialNumber: randomSerial(),
      ...validity,
      publicKey: keys.publicKey,
      ca: false,
      extensions,
    },
    signerOf(issuer),
  );
  return { certificate, signingKey: KeyObject.from(keys.privateKey) };
}

function littleEndian72(bigEndian: Uint8Array): Uint8Array {
  const out = new Uint8Array(72);
  out.set(reversed(bigEndian));
  return out;
}

// DER INTEGER, minimal and non-negative (a leading zero when the top bit is set).
function derInteger(value: number): Uint8Array {
  const bytes = value === 0 ? [0] : [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

function derIa5String(text: string): Uint8Array {
  return new Uint8Array([0x16, text.length, ...Buffer.from(text, 'latin1')]);
}
