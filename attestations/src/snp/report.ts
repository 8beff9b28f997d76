/**
 * The SEV-SNP attestation report (ATTESTATION_REPORT structure, AMD SEV-SNP ABI
 * specification #56860, Table 23 in rev 1.58), versions 2, 3 and 5. Parsing
 * checks every length and every must-be-zero range; serializing is its exact
 * inverse.
 */
import { EvidenceError } from '../errors.js';
import { isAllZero } from '../bytes.js';

/** Size of a report in bytes, all versions (ABI Table 23). */
export const SNP_REPORT_SIZE = 0x4a0;
/** Bytes 0x000-0x29F are signed (ABI Table 23, SIGNATURE covers 0h-29Fh). */
export const SNP_SIGNED_SIZE = 0x2a0;
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384 (ABI Table 139, Signature Algorithm Encodings). */
export const SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;
/** r and s are little-endian, zero-extended to 72 bytes (ABI Table 140, ECDSA Signature Format). */
export const SNP_SIGNATURE_COMPONENT_SIZE = 72;

export const SNP_REPORT_VERSIONS = [2, 3, 5] as const;
export type SnpReportVersion = (typeof SNP_REPORT_VERSIONS)[number];

/** SIGNING_KEY field of the report flags (ABI Table 23, offset 48h bits 4:2). */
export const SNP_SIGNING_KEYS = { VCEK: 0, VLEK: 1, NONE: 7 } as const;
export type SnpSigningKey = keyof typeof SNP_SIGNING_KEYS;

/** A firmware version triple (CURRENT_* and COMMITTED_* fields). */
export interface SnpFirmwareVersion {
  readonly build: number;
  readonly minor: number;
  readonly major: number;
}

/** CPUID family, model and stepping of the chip (report version 3 and later). */
export interface SnpCpuid {
  readonly familyId: number;
  readonly modelId: number;
  readonly stepping: number;
}

/** A parsed attestation report. TCB values stay raw: their layout depends on the product. */
export interface SnpReport {
  readonly version: SnpReportVersion;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: bigint;
  readonly platformInfo: bigint;
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly signingKey: SnpSigningKey;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: bigint;
  /** Present from version 3. */
  readonly cpuid: SnpCpuid | undefined;
  readonly chipId: Uint8Array;
  readonly committedTcb: bigint;
  readonly currentVersion: SnpFirmwareVersion;
  readonly committedVersion: SnpFirmwareVersion;
  readonly launchTcb: bigint;
  /** Present from version 5. */
  readonly launchMitVector: bigint | undefined;
  /** Present from version 5. */
  readonly currentMitVector: bigint | undefined;
  /** ECDSA r, little-endian as in the report. */
  readonly signatureR: Uint8Array;
  /** ECDSA s, little-endian as in the report. */
  readonly signatureS: Uint8Array;
}

// Byte ranges that must be zero for a version, [offset, end) (ABI Table 23).
function reservedRanges(
  version: SnpReportVersion,
): ReadonlyArray<readonly [number, number, string]> {
  return [
    [0x04c, 0x050, 'after flags'],
    version === 2 ? [0x188, 0x1a0, 'before chip_id'] : [0x18b, 0x1a0, 'after cpuid'],
    [0x1eb, 0x1ec, 'after current_major'],
    [0x1ef, 0x1f0, 'after committed_major'],
    version === 5 ? [0x208, 0x2a0, 'after current_mit_vector'] : [0x1f8, 0x2a0, 'after launch_tcb'],
    [0x330, 0x4a0, 'after signature s'],
  ];
}

const FLAG_AUTHOR_KEY_EN = 1 << 0;
const FLAG_MASK_CHIP_KEY = 1 << 1;
const FLAG_SIGNING_KEY_SHIFT = 2;
const FLAG_SIGNING_KEY_MASK = 0b111 << FLAG_SIGNING_KEY_SHIFT;

/**
 * Parses a raw 1184-byte report.
 * @throws EvidenceError SNP_REPORT_SIZE, SNP_REPORT_VERSION_UNSUPPORTED,
 *   SNP_SIGNATURE_ALGORITHM_UNSUPPORTED, SNP_SIGNING_KEY_UNKNOWN, SNP_REPORT_RESERVED_NONZERO
 */
export function parseSnpReport(bytes: Uint8Array): SnpReport {
  if (bytes.byteLength !== SNP_REPORT_SIZE) {
    throw new EvidenceError(
      'SNP_REPORT_SIZE',
      `report is ${bytes.byteLength} bytes; expected ${SNP_REPORT_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u8 = (offset: number) => view.getUint8(offset);
  const u32 = (offset: number) => view.getUint32(offset, true);
  const u64 = (offset: number) => view.getBigUint64(offset, true);
  const copy = (offset: number, length: number) => bytes.slice(offset, offset + length);

  const version = u32(0x000);
  if (!isSupportedVersion(version)) {
    throw new EvidenceError(
      'SNP_REPORT_VERSION_UNSUPPORTED',
      `report version is ${version}; expected one of ${SNP_REPORT_VERSIONS.join(', ')}`,
    );
  }
  const signatureAlgo = u32(0x034);
  if (signatureAlgo !== SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw new EvidenceError(
      'SNP_SIGNATURE_ALGORITHM_UNSUPPORTED',
      `signature algorithm is ${signatureAlgo}; expected ${SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384} (ECDSA P-384 SHA-384)`,
    );
  }
  const flags = u32(0x048);
  if ((flags & ~(FLAG_AUTHOR_KEY_EN | FLAG_MASK_CHIP_KEY | FLAG_SIGNING_KEY_MASK)) !== 0) {
    throw new EvidenceError(
      'SNP_REPORT_RESERVED_NONZERO',
      `reserved flag bits are set (flags 0x${flags.toString(16)})`,
    );
  }
  const signingKeyValue = (flags & FLAG_SIGNING_KEY_MASK) >>> FLAG_SIGNING_KEY_SHIFT;
  const signingKey = signingKeyName(signingKeyValue);
  for (const [start, end, name] of reservedRanges(version)) {
    if (!isAllZero(bytes.subarray(start, end))) {
      throw new EvidenceError(
        'SNP_REPORT_RESERVED_NONZERO',
        `reserved bytes 0x${start.toString(16)}-0x${(end - 1).toString(16)} (${name}) are not zero`,
      );
    }
  }
  const firmware = (offset: number): SnpFirmwareVersion => ({
    build: u8(offset),
    minor: u8(offset + 1),
    major: u8(offset + 2),
  });

  return {
    version,
    guestSvn: u32(0x004),
    policy: u64(0x008),
    familyId: copy(0x010, 16),
    imageId: copy(0x020, 16),
    vmpl: u32(0x030),
    signatureAlgo,
    currentTcb: u64(0x038),
    platformInfo: u64(0x040),
    authorKeyEn: (flags & FLAG_AUTHOR_KEY_EN) !== 0,
    maskChipKey: (flags & FLAG_MASK_CHIP_KEY) !== 0,
    signingKey,
    reportData: copy(0x050, 64),
    measurement: copy(0x090, 48),
    hostData: copy(0x0c0, 32),
    idKeyDigest: copy(0x0e0, 48),
    authorKeyDigest: copy(0x110, 48),
    reportId: copy(0x140, 32),
    reportIdMa: copy(0x160, 32),
    reportedTcb: u64(0x180),
    cpuid:
      version >= 3 ? { familyId: u8(0x188), modelId: u8(0x189), stepping: u8(0x18a) } : undefined,
    chipId: copy(0x1a0, 64),
    committedTcb: u64(0x1e0),
    currentVersion: firmware(0x1e8),
    committedVersion: firmware(0x1ec),
    launchTcb: u64(0x1f0),
    launchMitVector: version >= 5 ? u64(0x1f8) : undefined,
    currentMitVector: version >= 5 ? u64(0x200) : undefined,
    signatureR: copy(0x2a0, SNP_SIGNATURE_COMPONENT_SIZE),
    signatureS: copy(0x2e8, SNP_SIGNATURE_COMPONENT_SIZE),
  };
}

/**
 * Lays a report out byte for byte; `parseSnpReport(serializeSnpReport(r))` deep-equals `r`.
 * @throws EvidenceError SNP_REPORT_FIELD_INVALID when a field does not fit its slot
 */
export function serializeSnpReport(report: SnpReport): Uint8Array {
  const bytes = new Uint8Array(SNP_REPORT_SIZE);
  const view = new DataView(bytes.buffer);
  const put = (offset: number, value: Uint8Array, length: number, name: string) => {
    if (value.byteLength !== length) {
      throw new EvidenceError(
        'SNP_REPORT_FIELD_INVALID',
        `${name} is ${value.byteLength} bytes; expected ${length}`,
      );
    }
    bytes.set(value, offset);
  };
  const firmware = (offset: number, version: SnpFirmwareVersion) => {
    view.setUint8(offset, version.build);
    view.setUint8(offset + 1, version.minor);
    view.setUint8(offset + 2, version.major);
  };
  if (report.version >= 3 !== (report.cpuid !== undefined)) {
    throw new EvidenceError(
      'SNP_REPORT_FIELD_INVALID',
      'cpuid is present exactly from report version 3',
    );
  }
  if (
    report.version >= 5 !==
    (report.launchMitVector !== undefined && report.currentMitVector !== undefined)
  ) {
    throw new EvidenceError(
      'SNP_REPORT_FIELD_INVALID',
      'mitigation vectors are present exactly from report version 5',
    );
  }
  view.setUint32(0x000, report.version, true);
  view.setUint32(0x004, report.guestSvn, true);
  view.setBigUint64(0x008, report.policy, true);
  put(0x010, report.familyId, 16, 'family_id');
  put(0x020, report.imageId, 16, 'image_id');
  view.setUint32(0x030, report.vmpl, true);
  view.setUint32(0x034, report.signatureAlgo, true);
  view.setBigUint64(0x038, report.currentTcb, true);
  view.setBigUint64(0x040, report.platformInfo, true);
  const flags =
    (report.authorKeyEn ? FLAG_AUTHOR_KEY_EN : 0) |
    (report.maskChipKey ? FLAG_MASK_CHIP_KEY : 0) |
    (SNP_SIGNING_KEYS[report.signingKey] << FLAG_SIGNING_KEY_SHIFT);
  view.setUint32(0x048, flags, true);
  put(0x050, report.reportData, 64, 'report_data');
  put(0x090, report.measurement, 48, 'measurement');
  put(0x0c0, report.hostData, 32, 'host_data');
  put(0x0e0, report.idKeyDigest, 48, 'id_key_digest');
  put(0x110, report.authorKeyDigest, 48, 'author_key_digest');
  put(0x140, report.reportId, 32, 'report_id');
  put(0x160, report.reportIdMa, 32, 'report_id_ma');
  view.setBigUint64(0x180, report.reportedTcb, true);
  if (report.cpuid !== undefined) {
    view.setUint8(0x188, report.cpuid.familyId);
    view.setUint8(0x189, report.cpuid.modelId);
    view.setUint8(0x18a, report.cpuid.stepping);
  }
  put(0x1a0, report.chipId, 64, 'chip_id');
  view.setBigUint64(0x1e0, report.committedTcb, true);
  firmware(0x1e8, report.currentVersion);
  firmware(0x1ec, report.committedVersion);
  view.setBigUint64(0x1f0, report.launchTcb, true);
  if (report.launchMitVector !== undefined) view.setBigUint64(0x1f8, report.launchMitVector, true);
  if (report.currentMitVector !== undefined)
    view.setBigUint64(0x200, report.currentMitVector, true);
  put(0x2a0, report.signatureR, SNP_SIGNATURE_COMPONENT_SIZE, 'signature r');
  put(0x2e8, report.signatureS, SNP_SIGNATURE_COMPONENT_SIZE, 'signature s');
  return bytes;
}

function isSupportedVersion(version: number): version is SnpReportVersion {
  return (SNP_REPORT_VERSIONS as readonly number[]).includes(version);
}

function signingKeyName(value: number): SnpSigningKey {
  for (const [name, code] of Object.entries(SNP_SIGNING_KEYS)) {
    if (code === value) return name as SnpSigningKey;
  }
  throw new EvidenceError(
    'SNP_SIGNING_KEY_UNKNOWN',
    `signing key field is ${value}; expected 0 (VCEK), 1 (VLEK) or 7 (none)`,
  );
}
