/**
 * AMD Key Distribution Service URLs (AMD "VCEK Certificate and KDS Interface
 * Specification" #57230, section 4): the VCEK of a chip at a TCB, the product's
 * ASK/ASVK + ARK chain, and the product's CRL.
 */
import { toHex } from '@veritee/attestations';
import { decodeTcb, hwidLength, type SnpProduct } from '@veritee/attestations/snp';

export const KDS_BASE_URL = 'https://kdsintf.amd.com';

export type KdsKeyKind = 'VCEK' | 'VLEK';

const pathOf = (kind: KdsKeyKind) => (kind === 'VCEK' ? 'vcek' : 'vlek');

/**
 * `GET /vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..`;
 * Turin uses the first 8 bytes of the chip id and adds `fmcSPL`.
 */
export function vcekPath(product: SnpProduct, chipId: Uint8Array, reportedTcb: bigint): string {
  const tcb = decodeTcb(reportedTcb, product);
  const query = new URLSearchParams();
  if (tcb.fmc !== undefined) query.set('fmcSPL', String(tcb.fmc));
  query.set('blSPL', String(tcb.bootloader));
  query.set('teeSPL', String(tcb.tee));
  query.set('snpSPL', String(tcb.snp));
  query.set('ucodeSPL', String(tcb.microcode));
  return `/vcek/v1/${product}/${toHex(chipId.subarray(0, hwidLength(product)))}?${query.toString()}`;
}

/** `GET /{vcek|vlek}/v1/{product}/cert_chain`: the ASK (or ASVK) then the ARK, PEM. */
export function certChainPath(product: SnpProduct, kind: KdsKeyKind): string {
  return `/${pathOf(kind)}/v1/${product}/cert_chain`;
}

/** `GET /{vcek|vlek}/v1/{product}/crl`: the product's CRL, DER, signed by the ARK. */
export function crlPath(product: SnpProduct, kind: KdsKeyKind): string {
  return `/${pathOf(kind)}/v1/${product}/crl`;
}
