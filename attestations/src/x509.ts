/**
 * The one adapter for reading X.509: node:crypto for parsing, public keys and
 * signature checks (OpenSSL, fast, RSASSA-PSS aware) and @peculiar/x509 for what
 * node does not expose (custom extensions, CRLs). Issuing lives with the
 * simulator (sim/x509-issue.ts), the only code that makes certificates. Time is always an argument, and a bad
 * signature is reported apart from an expired or not-yet-valid certificate.
 */
import 'reflect-metadata';
import {
  X509Certificate as NodeCertificate,
  constants,
  createHash,
  verify,
  type KeyObject,
} from 'node:crypto';
import * as peculiar from '@peculiar/x509';
import { ChainError, EvidenceError } from './errors.js';
import { createMemo } from './memo.js';
import { chainSignatures } from './signature-memo.js';

/** A parsed certificate; immutable. */
export interface Certificate {
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  /** Serial number, lower-case hex without leading zeros. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly isCa: boolean;
  /** The extnValue contents of each extension, by dotted OID. */
  readonly extensions: ReadonlyMap<string, Uint8Array>;
  /** Name of the signature algorithm of this certificate, e.g. `RSASSA-PSS`. */
  readonly signatureAlgorithm: string;
  readonly native: NodeCertificate;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g;

/** Lower-case hex serial without leading zeros, for comparing serials from any source. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * Parses one certificate, DER or PEM.
 * @throws EvidenceError X509_MALFORMED
 */
export function parseCertificate(input: Uint8Array | string): Certificate {
  const der = typeof input === 'string' || looksLikePem(input) ? pemToDer(input) : input;
  refuseTrailingBytes(der, 'X509_MALFORMED', 'certificate');
  try {
    const native = new NodeCertificate(der);
    const parsed = new peculiar.X509Certificate(der);
    const extensions = new Map<string, Uint8Array>();
    for (const extension of parsed.extensions) {
      if (extensions.has(extension.type)) {
        throw new EvidenceError(
          'X509_MALFORMED',
          `certificate repeats extension ${extension.type}`,
        );
      }
      extensions.set(extension.type, new Uint8Array(extension.value));
    }
    return {
      der: new Uint8Array(der),
      fingerprint: createHash('sha256').update(der).digest('hex'),
      subject: native.subject,
      issuer: native.issuer,
      serialNumber: normalizeSerial(native.serialNumber),
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      publicKey: native.publicKey,
      isCa: native.ca,
      extensions,
      signatureAlgorithm: (parsed.signatureAlgorithm as { name?: string }).name ?? 'unknown',
      native,
    };
  } catch (error) {
    if (error instanceof EvidenceError) throw error;
    throw new EvidenceError('X509_MALFORMED', 'certificate is not valid DER X.509', {
      cause: error,
    });
  }
}

// Chains repeat across evidence (an ASK for years, a Nitro leaf for hours): parse each once.
const certificates = createMemo<Certificate>(1_000);
const digestOf = (input: Uint8Array | string) =>
  createHash('sha256').update(input).digest('base64');

/**
 * {@link parseCertificate} with a bounded cache keyed by the input's SHA-256.
 * @throws EvidenceError X509_MALFORMED
 */
export function parseCertificateCached(input: Uint8Array | string): Certificate {
  return certificates.remember(digestOf(input), () => parseCertificate(input));
}

/** Most certificates a bundle may hold: a leaf and its chain, with room to spare. */
export const MAX_BUNDLE_CERTIFICATES = 8;

/**
 * Every certificate of a DER certificate, or of a PEM text holding one or more
 * (a bundle), in order.
 * @throws EvidenceError X509_MALFORMED, also for an empty or oversized bundle
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  if (typeof input !== 'string' && !looksLikePem(input)) return [parseCertificateCached(input)];
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || blocks.length > MAX_BUNDLE_CERTIFICATES)
    throw new EvidenceError(
      'X509_MALFORMED',
      `expected 1 to ${MAX_BUNDLE_CERTIFICATES} PEM certificates, found ${blocks.length}`,
    );
  return blocks.map((block) => parseCertificateCached(Buffer.from(block[1] ?? '', 'base64')));
}

/**
 * DER allows one encoding of a value, so bytes after the outer TLV would give
 * one certificate many spellings; the parsers below would ignore them.
 */
function refuseTrailingBytes(der: Uint8Array, code: string, what: string): void {
  const extent = derExtent(der);
  if (extent !== der.byteLength)
    throw new EvidenceError(
      code,
      extent === undefined
        ? `${what} does not start with a DER length`
        : `${what} has ${der.byteLength - extent} bytes after its DER encoding`,
    );
}

/** Length of the first DER TLV (definite length, at most four length bytes), or undefined. */
function derExtent(der: Uint8Array): number | undefined {
  const first = der[1];
  if (der.byteLength < 2 || first === undefined) return undefined;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || der.byteLength < 2 + count) return undefined;
  let length = 0;
  for (let index = 0; index < count; index++) length = length * 256 + (der[2 + index] ?? 0);
  return 2 + count + length;
}

function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}

function pemToDer(input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length !== 1) {
    throw new EvidenceError(
      'X509_MALFORMED',
      `expected one PEM certificate, found ${blocks.length}`,
    );
  }
  return new Uint8Array(Buffer.from(blocks[0]?.[1] ?? '', 'base64'));
}

/** Whether `cert` is within its validity period at `at`; never throws. */
export function validityAt(cert: Certificate, at: Date): 'VALID' | 'NOT_YET_VALID' | 'EXPIRED' {
  if (at.getTime() < cert.notBefore.getTime()) return 'NOT_YET_VALID';
  if (at.getTime() > cert.notAfter.getTime()) return 'EXPIRED';
  return 'VALID';
}

/** Whether `key` verifies the signature on `cert`; checks no names or times, never throws. */
export function isSignedBy(cert: Certificate, key: KeyObject): boolean {
  try {
    return cert.native.verify(key);
  } catch {
    return false;
  }
}

/** A parsed, not yet verified certificate revocation list. */
export interface Crl {
  readonly der: Uint8Array;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked serial numbers, normalized as by {@link normalizeSerial}. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly parsed: peculiar.X509Crl;
  /** SHA-256 of `der`, hex: what a CRL's verified signature is remembered by. */
  readonly fingerprint: string;
}

// A CRL repeats in every report of its product until it is reissued (AMD: weekly): parse
// and verify it once. Time is checked at every use; only what does not change is kept.
const crls = createMemo<Crl>(256);

/**
 * Parses a DER or PEM CRL; the same bytes again get the same parsed CRL, from
 * a bounded cache keyed by their SHA-256.
 * @throws EvidenceError CRL_MALFORMED
 */
export function parseCrl(input: Uint8Array | string): Crl {
  return crls.remember(digestOf(input), () => parseCrlUncached(input));
}

function parseCrlUncached(input: Uint8Array | string): Crl {
  if (typeof input !== 'string' && !looksLikePem(input))
    refuseTrailingBytes(input, 'CRL_MALFORMED', 'CRL');
  try {
    const parsed = new peculiar.X509Crl(typeof input === 'string' ? input : Buffer.from(input));
    return {
      fingerprint: createHash('sha256').update(new Uint8Array(parsed.rawData)).digest('hex'),
      der: new Uint8Array(parsed.rawData),
      issuer: parsed.issuer,
      thisUpdate: parsed.thisUpdate,
      nextUpdate: parsed.nextUpdate,
      revokedSerials: new Set(parsed.entries.map((entry) => normalizeSerial(entry.serialNumber))),
      parsed,
    };
  } catch (error) {
    throw new EvidenceError('CRL_MALFORMED', 'CRL is not valid DER or PEM', { cause: error });
  }
}

/** Why a CRL cannot be used at a given time, or undefined when it can. */
export type CrlProblem = 'ISSUER_MISMATCH' | 'BAD_SIGNATURE' | 'NOT_YET_VALID' | 'EXPIRED';

/**
 * Checks the CRL's issuer name, its signature by `issuer`'s key and that `at`
 * lies between thisUpdate and nextUpdate.
 */
export function checkCrl(crl: Crl, issuer: Certificate, at: Date): CrlProblem | undefined {
  if (normalizeName(crl.issuer) !== normalizeName(issuer.subject)) return 'ISSUER_MISMATCH';
  if (!crlSignedBy(crl, issuer)) return 'BAD_SIGNATURE';
  if (at.getTime() < crl.thisUpdate.getTime()) return 'NOT_YET_VALID';
  if (crl.nextUpdate !== undefined && at.getTime() > crl.nextUpdate.getTime()) return 'EXPIRED';
  return undefined;
}

/** Whether `issuer`'s key signed the CRL, remembered by both fingerprints (a fact of the bytes alone). */
function crlSignedBy(crl: Crl, issuer: Certificate): boolean {
  return chainSignatures.remember(`crl:${crl.fingerprint}:${issuer.fingerprint}`, () =>
    verifyWithAlgorithm(crl.parsed, issuer.publicKey),
  );
}

// node prints names one attribute per line; @peculiar joins them with ", ".
function normalizeName(name: string): string {
  return name
    .split(/\n|,\s*/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .sort()
    .join('\n');
}

function verifyWithAlgorithm(crl: peculiar.X509Crl, key: KeyObject): boolean {
  const algorithm = crl.signatureAlgorithm as {
    name: string;
    hash?: { name: string };
    saltLength?: number;
  };
  const hash = algorithm.hash?.name.replace('-', '').toLowerCase();
  if (hash === undefined) return false;
  const tbs = firstDerElement(new Uint8Array(crl.rawData));
  const signature = Buffer.from(crl.signature);
  try {
    switch (algorithm.name) {
      case 'RSA-PSS':
        return verify(
          hash,
          tbs,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength ?? 32 },
          signature,
        );
      case 'RSASSA-PKCS1-v1_5':
        return verify(hash, tbs, key, signature);
      case 'ECDSA':
        return verify(hash, tbs, { key, dsaEncoding: 'der' }, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/**
 * The first element (TLV) inside a DER SEQUENCE: the to-be-signed part of a
 * certificate or CRL.
 * @throws ChainError X509_MALFORMED
 */
function firstDerElement(der: Uint8Array): Uint8Array {
  const outer = derHeader(der, 0);
  const inner = derHeader(der, outer.headerLength);
  const end = outer.headerLength + inner.headerLength + inner.length;
  if (end > der.length)
    throw new ChainError('X509_MALFORMED', 'DER element runs past its container');
  return der.subarray(outer.headerLength, end);
}

function derHeader(der: Uint8Array, offset: number): { headerLength: number; length: number } {
  const first = der[offset + 1];
  if (der[offset] !== 0x30 || first === undefined)
    throw new ChainError('X509_MALFORMED', 'expected a DER SEQUENCE');
  if (first < 0x80) return { headerLength: 2, length: first };
  const count = first & 0x7f;
  if (count === 0 || count > 4) throw new ChainError('X509_MALFORMED', 'unsupported DER length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] ?? 0);
  return { headerLength: 2 + count, length };
}
