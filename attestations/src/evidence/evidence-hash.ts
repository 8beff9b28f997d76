/**
 * One quote, one hash. The hardware's ECDSA signatures are malleable ((r, s)
 * and (r, n - s) both verify), a Nitro document may come tagged or not, and an
 * SEV-SNP report may travel with a certificate table no signature covers. The
 * evidence hash is therefore taken over a canonical form of what is signed:
 * the 1184-byte SEV-SNP report with its low-s signature (the table left out),
 * or the untagged Nitro COSE_Sign1 with its low-s signature. Receipts, key
 * releases and attestation results name evidence by this hash.
 */
import { createHash } from 'node:crypto';
import { serializeNitroDocument } from '../nitro/document.js';
import type { VerifiedEvidence } from '../policy/evaluate.js';
import {
  serializeSnpReport,
  SNP_SIGNATURE_COMPONENT_SIZE,
  SNP_SIGNED_SIZE,
} from '../snp/report.js';

/** Group orders (SEC 2, secp384r1): both SNP and Nitro sign with ECDSA P-384. */
const P384_N = BigInt(
  '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
);

// s follows r, both right after the signed bytes (AMD SEV-SNP ABI #56860, Table 139).
const SNP_SIGNATURE_S_OFFSET = SNP_SIGNED_SIZE + SNP_SIGNATURE_COMPONENT_SIZE;

const lowS = (s: bigint) => (s > P384_N >> 1n ? P384_N - s : s);

function fromBytes(bytes: Uint8Array, littleEndian: boolean): bigint {
  const ordered = Buffer.from(bytes);
  if (littleEndian) ordered.reverse();
  return BigInt(`0x${ordered.toString('hex') || '0'}`);
}

function toBytes(value: bigint, length: number, littleEndian: boolean): Uint8Array {
  const bytes = Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
  return littleEndian ? bytes.reverse() : bytes;
}

/** SHA-256 of the canonical form of verified evidence (32 bytes). */
export function canonicalEvidenceHash(verified: VerifiedEvidence): Uint8Array {
  let canonical: Uint8Array;
  if (verified.format === 'sev-snp') {
    const { report } = verified;
    // r and s are little-endian, 72-byte fields (AMD SEV-SNP ABI #56860, Table 139).
    const s = lowS(fromBytes(report.signatureS, true));
    canonical = serializeSnpReport(report);
    canonical.set(toBytes(s, SNP_SIGNATURE_COMPONENT_SIZE, true), SNP_SIGNATURE_S_OFFSET);
  } else {
    const { document } = verified;
    // COSE ES384 signatures are r || s, 48 bytes each, big-endian (RFC 9053, section 2.1).
    const half = document.signature.byteLength / 2;
    const s = lowS(fromBytes(document.signature.subarray(half), false));
    const signature = new Uint8Array(document.signature);
    signature.set(toBytes(s, half, false), half);
    canonical = serializeNitroDocument({ ...document, tagged: false, signature });
  }
  return new Uint8Array(createHash('sha256').update(canonical).digest());
}
