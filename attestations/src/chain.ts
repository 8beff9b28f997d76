/**
 * Certificate chain checks shared by SEV-SNP and Nitro: each link's issuer name,
 * CA flag, signature and validity at a given time. Signature results are cached
 * by the fingerprints of both certificates, so a chain seen before costs no
 * public-key operation; validity is checked anew every time.
 */
import { ChainError } from './errors.js';
import { chainSignatures, linkKeyPrefix } from './signature-memo.js';
import { isSignedBy, validityAt, type Certificate } from './x509.js';

/** Prefix of the error codes a chain check raises, e.g. `SNP_CERT_EXPIRED`. */
export type ChainDomain = 'SNP' | 'NITRO';

function signedBy(child: Certificate, issuer: Certificate): boolean {
  return chainSignatures.remember(`${linkKeyPrefix(child.fingerprint)}${issuer.fingerprint}`, () =>
    isSignedBy(child, issuer.publicKey),
  );
}

/** Whether `issuer` issued `child` (name, CA flag, signature), ignoring time; never throws. */
export function isIssuedBy(child: Certificate, issuer: Certificate): boolean {
  return child.issuer === issuer.subject && issuer.isCa && signedBy(child, issuer);
}

/**
 * Checks that `issuer` issued `child` and that `child` is valid at `at`.
 * Key identifier extensions are not required: genuine AWS Nitro chains lack them.
 * @throws ChainError {domain}_CHAIN_BROKEN, {domain}_CERT_BAD_SIGNATURE,
 *   {domain}_CERT_NOT_YET_VALID, {domain}_CERT_EXPIRED
 */
export function assertLink(
  child: Certificate,
  issuer: Certificate,
  at: Date,
  domain: ChainDomain,
): void {
  const name = commonName(child);
  if (child.issuer !== issuer.subject) {
    throw new ChainError(
      `${domain}_CHAIN_BROKEN`,
      `${name} was not issued by ${commonName(issuer)}`,
    );
  }
  if (!issuer.isCa)
    throw new ChainError(
      `${domain}_CHAIN_BROKEN`,
      `${commonName(issuer)} is not a CA but issued ${name}`,
    );
  if (!signedBy(child, issuer))
    throw new ChainError(
      `${domain}_CERT_BAD_SIGNATURE`,
      `signature on ${name} does not verify with ${commonName(issuer)}'s key`,
    );
  assertValidAt(child, at, domain);
}

/**
 * @throws ChainError {domain}_CERT_NOT_YET_VALID, {domain}_CERT_EXPIRED
 */
export function assertValidAt(cert: Certificate, at: Date, domain: ChainDomain): void {
  const validity = validityAt(cert, at);
  if (validity === 'NOT_YET_VALID') {
    throw new ChainError(
      `${domain}_CERT_NOT_YET_VALID`,
      `${commonName(cert)} is valid from ${cert.notBefore.toISOString()}; checked at ${at.toISOString()}`,
    );
  }
  if (validity === 'EXPIRED') {
    throw new ChainError(
      `${domain}_CERT_EXPIRED`,
      `${commonName(cert)} expired at ${cert.notAfter.toISOString()}; checked at ${at.toISOString()}`,
    );
  }
}

/**
 * Times (ms since the epoch, both ends included) over which every
 * time-dependent check of a verification gives the result it gave: within
 * it, the same bytes verify the same way, so the result may be reused.
 */
export interface TimeWindow {
  readonly from: number;
  readonly until: number;
}

/** The window over which each of `certs` is valid, and each of `windows` holds. */
export function timeWindow(
  certs: readonly Certificate[],
  windows: readonly TimeWindow[] = [],
): TimeWindow {
  return [
    ...certs.map((cert) => ({ from: cert.notBefore.getTime(), until: cert.notAfter.getTime() })),
    ...windows,
  ].reduce((a, b) => ({ from: Math.max(a.from, b.from), until: Math.min(a.until, b.until) }), {
    from: -Infinity,
    until: Infinity,
  });
}

/** The CN of a certificate's subject, cut short: for messages only. */
export function commonName(cert: Certificate): string {
  const match = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
  return JSON.stringify((match?.[1] ?? 'certificate').slice(0, 64));
}
