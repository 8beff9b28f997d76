/**
 * The adapter for issuing X.509 certificates and CRLs with @peculiar/x509: only
 * the simulator makes certificates (its dev PKI), so this lives beside it and no
 * verifying code path loads it.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as peculiar from '@peculiar/x509';
import { parseCertificate, type Certificate } from '../x509.js';

/** Algorithms the issuing side uses: AMD's RSASSA-PSS/SHA-384 (salt 48) and ECDSA P-384/SHA-384. */
export type IssuingAlgorithm = 'RSA-PSS-SHA384' | 'ECDSA-SHA384';

/** A key pair usable for issuing, as WebCrypto keys. */
export interface IssuingKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

peculiar.cryptoProvider.set(webcrypto);

const KEY_PARAMS: Record<
  IssuingAlgorithm,
  webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams
> = {
  'RSA-PSS-SHA384': {
    name: 'RSA-PSS',
    modulusLength: 4096,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-384',
  },
  'ECDSA-SHA384': { name: 'ECDSA', namedCurve: 'P-384' },
};
const SIGNING_PARAMS: Record<IssuingAlgorithm, webcrypto.EcdsaParams | webcrypto.RsaPssParams> = {
  'RSA-PSS-SHA384': { name: 'RSA-PSS', saltLength: 48, hash: 'SHA-384' },
  'ECDSA-SHA384': { name: 'ECDSA', hash: 'SHA-384' },
};

/** Generates an extractable key pair for `algorithm` (RSA-4096 takes seconds). */
export async function generateIssuingKeyPair(algorithm: IssuingAlgorithm): Promise<IssuingKeyPair> {
  return await webcrypto.subtle.generateKey(KEY_PARAMS[algorithm], true, ['sign', 'verify']);
}

/** PKCS#8 DER of a private key. */
export async function exportPrivateKey(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key));
}

/** Imports a PKCS#8 private key and derives its public key from `certificate`. */
export async function importIssuingKeyPair(
  pkcs8: Uint8Array,
  certificate: Certificate,
  algorithm: IssuingAlgorithm,
): Promise<IssuingKeyPair> {
  const params = KEY_PARAMS[algorithm];
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, params, true, ['sign']);
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, params, true, ['verify']);
  return { privateKey, publicKey };
}

/** What a certificate to issue says. Serial numbers are hex. */
export interface CertificateTemplate {
  readonly subject: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: CryptoKey;
  readonly ca: boolean;
  /** Extra extensions as raw extnValue contents. */
  readonly extensions?: ReadonlyArray<{ readonly oid: string; readonly value: Uint8Array }>;
}

/**
 * Issues a certificate signed by `issuerKey` under `issuer`'s name (or self-signed
 * when `issuer` is undefined). No key identifier extensions, as in AWS's and AMD's chains.
 */
export async function issueCertificate(
  template: CertificateTemplate,
  issuer: {
    readonly subject: string;
    readonly key: CryptoKey;
    readonly algorithm: IssuingAlgorithm;
  },
): Promise<Certificate> {
  const extensions: peculiar.Extension[] = [
    new peculiar.BasicConstraintsExtension(template.ca, undefined, true),
    new peculiar.KeyUsagesExtension(
      template.ca
        ? peculiar.KeyUsageFlags.keyCertSign |
            peculiar.KeyUsageFlags.cRLSign |
            peculiar.KeyUsageFlags.digitalSignature
        : peculiar.KeyUsageFlags.digitalSignature,
      true,
    ),
    ...(template.extensions ?? []).map(
      (extension) => new peculiar.Extension(extension.oid, false, extension.value),
    ),
  ];
  const issued = await peculiar.X509CertificateGenerator.create({
    serialNumber: template.serialNumber,
    subject: template.subject,
    issuer: issuer.subject,
    notBefore: template.notBefore,
    notAfter: template.notAfter,
    publicKey: template.publicKey,
    signingKey: issuer.key,
    signingAlgorithm: SIGNING_PARAMS[issuer.algorithm],
    extensions,
  });
  return parseCertificate(new Uint8Array(issued.rawData));
}

/** Issues a CRL listing `revokedSerials` (hex), signed by the issuer. */
export async function issueCrl(params: {
  readonly issuer: {
    readonly subject: string;
    readonly key: CryptoKey;
    readonly algorithm: IssuingAlgorithm;
  };
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revokedSerials: readonly string[];
}): Promise<Uint8Array> {
  const crl = await peculiar.X509CrlGenerator.create({
    issuer: params.issuer.subject,
    thisUpdate: params.thisUpdate,
    nextUpdate: params.nextUpdate,
    entries: params.revokedSerials.map((serialNumber) => ({
      serialNumber,
      revocationDate: params.thisUpdate,
    })),
    signingAlgorithm: SIGNING_PARAMS[params.issuer.algorithm],
    signingKey: params.issuer.key,
  });
  return new Uint8Array(crl.rawData);
}
