/**
 * Trust anchors: the certificates verification ends in. The default store holds
 * only the real AMD and AWS roots; a simulated (dev) anchor is marked so, and
 * evidence that ends in it is accepted only with `allowSimulated`.
 */
import { ConfigError } from '../errors.js';
import { parseCertificate, isSignedBy, type Certificate } from '../x509.js';
import { AMD_ROOTS } from '../roots/amd.js';
import { AWS_NITRO_ROOT_G1 } from '../roots/aws-nitro.js';
import { SNP_PRODUCTS, type SnpProduct } from '../snp/product.js';

/** One SEV-SNP product's root (ARK) and intermediates (ASK for VCEKs, ASVK for VLEKs). */
export interface SnpAnchor {
  readonly product: SnpProduct;
  readonly ark: Certificate;
  readonly ask: Certificate;
  readonly asvk: Certificate;
  readonly simulated: boolean;
}

/** A Nitro root: the first certificate of every cabundle that chains to it. */
export interface NitroAnchor {
  readonly root: Certificate;
  readonly simulated: boolean;
}

export interface TrustStore {
  readonly snp: readonly SnpAnchor[];
  readonly nitro: readonly NitroAnchor[];
}

/**
 * Builds an SNP anchor; the ASK and ASVK must be signed by the ARK, and the ARK by itself.
 * @throws ConfigError TRUST_ANCHOR_INVALID
 */
export function createSnpAnchor(
  product: SnpProduct,
  certs: { ark: Certificate; ask: Certificate; asvk: Certificate },
  simulated: boolean,
): SnpAnchor {
  for (const [name, cert] of Object.entries(certs)) {
    if (!isSignedBy(cert, certs.ark.publicKey) || cert.issuer !== certs.ark.subject) {
      throw new ConfigError(
        'TRUST_ANCHOR_INVALID',
        `${product} ${name.toUpperCase()} is not signed by its ARK`,
      );
    }
  }
  return { product, ...certs, simulated };
}

/**
 * Builds a Nitro anchor from a self-signed root.
 * @throws ConfigError TRUST_ANCHOR_INVALID
 */
export function createNitroAnchor(root: Certificate, simulated: boolean): NitroAnchor {
  if (!isSignedBy(root, root.publicKey))
    throw new ConfigError('TRUST_ANCHOR_INVALID', 'Nitro root is not self-signed');
  return { root, simulated };
}

let defaultStore: TrustStore | undefined;

/** The real AMD (Milan, Genoa, Turin) and AWS Nitro Enclaves Root-G1 anchors. */
export function defaultTrustStore(): TrustStore {
  defaultStore ??= {
    snp: SNP_PRODUCTS.map((product) => {
      const pinned = AMD_ROOTS[product];
      return createSnpAnchor(
        product,
        {
          ark: parseCertificate(pinned.ark.pem),
          ask: parseCertificate(pinned.ask.pem),
          asvk: parseCertificate(pinned.asvk.pem),
        },
        false,
      );
    }),
    nitro: [createNitroAnchor(parseCertificate(AWS_NITRO_ROOT_G1.pem), false)],
  };
  return defaultStore;
}

/** A store holding the anchors of both. */
export function mergeTrustStores(a: TrustStore, b: TrustStore): TrustStore {
  return { snp: [...a.snp, ...b.snp], nitro: [...a.nitro, ...b.nitro] };
}
