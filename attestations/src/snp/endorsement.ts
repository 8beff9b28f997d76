/**
 * The AMD-specific X.509 extensions of a VCEK or VLEK certificate (AMD "Versioned
 * Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification" #57230,
 * Table 8): product name, TCB security patch levels and hwID (VCEK) or CSP id (VLEK).
 */
import { EvidenceError } from '../errors.js';
import { parseCertificates, type Certificate } from '../x509.js';
import { isSnpProduct, hwidLength, type SnpProduct, type SnpTcb } from './product.js';

/** OIDs under AMD's arc 1.3.6.1.4.1.3704.1 (KDS spec #57230, Table 8). */
export const AMD_OID = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  bootloader: '1.3.6.1.4.1.3704.1.3.1',
  tee: '1.3.6.1.4.1.3704.1.3.2',
  snp: '1.3.6.1.4.1.3704.1.3.3',
  spl4: '1.3.6.1.4.1.3704.1.3.4',
  spl5: '1.3.6.1.4.1.3704.1.3.5',
  spl6: '1.3.6.1.4.1.3704.1.3.6',
  spl7: '1.3.6.1.4.1.3704.1.3.7',
  microcode: '1.3.6.1.4.1.3704.1.3.8',
  fmc: '1.3.6.1.4.1.3704.1.3.9',
  hwid: '1.3.6.1.4.1.3704.1.4',
  cspId: '1.3.6.1.4.1.3704.1.5',
} as const;

/** What an endorsement certificate says about the chip it endorses. */
export interface EndorsementClaims {
  readonly kind: 'VCEK' | 'VLEK';
  /** Product line from the product name, e.g. `Milan` from `Milan-B0`. */
  readonly product: SnpProduct;
  readonly productName: string;
  readonly tcb: SnpTcb;
  /** VCEK only: the chip's hardware id (64 bytes; 8 on Turin). */
  readonly hwid: Uint8Array | undefined;
  /** VLEK only: the cloud provider's id. */
  readonly cspId: string | undefined;
}

/**
 * The VCEK or VLEK of an endorsement file in any form users have one: DER, PEM,
 * or a PEM bundle holding it with its ASK/ASVK and ARK in any order (as cloud
 * certificate services and SNP tools hand them out). The endorsement is the
 * one certificate that is not a CA. The bundle's CAs are not trusted: the
 * chain is built to the pinned AMD roots whatever the bundle carries.
 * @throws EvidenceError X509_MALFORMED, SNP_ENDORSEMENT_MISSING when no single leaf is there
 */
export function parseEndorsement(input: Uint8Array | string): Certificate {
  const certificates = parseCertificates(input);
  if (certificates.length === 1) return certificates[0] as Certificate;
  const leaves = certificates.filter((certificate) => !certificate.isCa);
  if (leaves.length !== 1)
    throw new EvidenceError(
      'SNP_ENDORSEMENT_MISSING',
      `the bundle holds ${leaves.length} leaf certificates; expected one VCEK or VLEK`,
    );
  return leaves[0] as Certificate;
}

// Claims by certificate object: parsed once however many steps (CRL lookup,
// chain, TCB check) and appraisals ask. Certificates are immutable.
const parsed = new WeakMap<Certificate, EndorsementClaims>();

/**
 * Reads the AMD extensions of a VCEK or VLEK.
 * @throws EvidenceError SNP_ENDORSEMENT_EXTENSION_INVALID
 */
export function parseEndorsementClaims(cert: Certificate): EndorsementClaims {
  const known = parsed.get(cert);
  if (known !== undefined) return known;
  const claims = readEndorsementClaims(cert);
  parsed.set(cert, claims);
  return claims;
}

function readEndorsementClaims(cert: Certificate): EndorsementClaims {
  const productName = ia5String(cert, AMD_OID.productName);
  const product = productName.split('-')[0];
  if (!isSnpProduct(product))
    invalid(
      `product name ${JSON.stringify(productName.slice(0, 32))} is not Milan, Genoa or Turin`,
    );
  const hwidValue = cert.extensions.get(AMD_OID.hwid);
  const cspIdValue = cert.extensions.get(AMD_OID.cspId);
  if ((hwidValue === undefined) === (cspIdValue === undefined))
    invalid('certificate must carry exactly one of hwID (VCEK) and CSP id (VLEK)');
  const tcb: SnpTcb = {
    bootloader: integer(cert, AMD_OID.bootloader),
    tee: integer(cert, AMD_OID.tee),
    snp: integer(cert, AMD_OID.snp),
    microcode: integer(cert, AMD_OID.microcode),
    ...(product === 'Turin' ? { fmc: integer(cert, AMD_OID.fmc) } : {}),
  };
  let hwid: Uint8Array | undefined;
  if (hwidValue !== undefined) {
    // KDS stores the hwID as the raw extension value, without an OCTET STRING header.
    if (hwidValue.byteLength !== hwidLength(product))
      invalid(`hwID is ${hwidValue.byteLength} bytes; expected ${hwidLength(product)}`);
    hwid = hwidValue;
  }
  return {
    kind: hwid === undefined ? 'VLEK' : 'VCEK',
    product,
    productName,
    tcb,
    hwid,
    cspId: cspIdValue === undefined ? undefined : ia5String(cert, AMD_OID.cspId),
  };
}

function invalid(message: string): never {
  throw new EvidenceError('SNP_ENDORSEMENT_EXTENSION_INVALID', message);
}

// DER INTEGER (tag 0x02), short form, non-negative, at most 255.
function integer(cert: Certificate, oid: string): number {
  const value = cert.extensions.get(oid);
  if (value === undefined) invalid(`extension ${oid} is missing`);
  const length = value[1];
  if (
    value[0] !== 0x02 ||
    length === undefined ||
    length < 1 ||
    length > 2 ||
    value.byteLength !== 2 + length
  ) {
    invalid(`extension ${oid} is not a small DER INTEGER`);
  }
  const number = value.subarray(2).reduce((sum, byte) => sum * 256 + byte, 0);
  if ((value[2] ?? 0) & 0x80 || number > 255) invalid(`extension ${oid} is outside 0-255`);
  return number;
}

// DER IA5String (tag 0x16), short form.
function ia5String(cert: Certificate, oid: string): string {
  const value = cert.extensions.get(oid);
  if (value === undefined) invalid(`extension ${oid} is missing`);
  const length = value[1];
  if (
    value[0] !== 0x16 ||
    length === undefined ||
    length >= 0x80 ||
    value.byteLength !== 2 + length
  ) {
    invalid(`extension ${oid} is not a DER IA5String`);
  }
  const text = Buffer.from(value.subarray(2)).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(text)) invalid(`extension ${oid} holds non-printable characters`);
  return text;
}
