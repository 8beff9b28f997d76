/**
 * The simulator's dev PKI: per product an AMD-style ARK, ASK and ASVK
 * (RSA-4096, RSASSA-PSS/SHA-384, salt 48), and a Nitro-style P-384 root with
 * regional, zonal and instance intermediates, as AWS lays its cabundle out.
 * Names say "Veritee Simulator" so no one mistakes them for AMD's or AWS's.
 * Generating it takes seconds (nine RSA-4096 keys); callers persist the
 * serialized form and load it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { parseCertificate, type Certificate } from '../x509.js';
import {
  exportPrivateKey,
  generateIssuingKeyPair,
  importIssuingKeyPair,
  issueCertificate,
  type IssuingAlgorithm,
  type IssuingKeyPair,
} from './x509-issue.js';
import { createNitroAnchor, createSnpAnchor, type TrustStore } from '../evidence/trust.js';
import { SNP_PRODUCTS, type SnpProduct } from '../snp/product.js';

export const DEV_PKI_FORMAT = 'veritee.dev-pki/v1';

/** A certificate authority the simulator signs with. */
export interface IssuingCa {
  readonly certificate: Certificate;
  readonly keys: IssuingKeyPair;
  readonly algorithm: IssuingAlgorithm;
}

export interface DevPki {
  readonly snp: Readonly<
    Record<
      SnpProduct,
      { readonly ark: IssuingCa; readonly ask: IssuingCa; readonly asvk: IssuingCa }
    >
  >;
  /** Root first, then regional, zonal and instance CAs. */
  readonly nitro: readonly IssuingCa[];
}

const ORGANIZATION = 'O=Veritee Simulator, C=US';
const NITRO_NAMES = [
  'veritee-sim.nitro-enclaves',
  'us-east-1.veritee-sim.nitro-enclaves',
  'zone-a.us-east-1.veritee-sim.nitro-enclaves',
  'i-0sim.us-east-1.veritee-sim.nitro-enclaves',
];

/** A positive random serial number, hex. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** The issuer description `issueCertificate` and `issueCrl` take. */
export function signerOf(ca: IssuingCa) {
  // node prints a name one attribute per line, in encoding order.
  return {
    subject: ca.certificate.subject.replaceAll('\n', ', '),
    key: ca.keys.privateKey,
    algorithm: ca.algorithm,
  };
}

async function createCa(
  subject: string,
  algorithm: IssuingAlgorithm,
  validity: { notBefore: Date; notAfter: Date },
  issuer?: IssuingCa,
): Promise<IssuingCa> {
  const keys = await generateIssuingKeyPair(algorithm);
  const signer =
    issuer === undefined ? { subject, key: keys.privateKey, algorithm } : signerOf(issuer);
  const certificate = await issueCertificate(
    { subject, serialNumber: randomSerial(), ...validity, publicKey: keys.publicKey, ca: true },
    signer,
  );
  return { certificate, keys, algorithm };
}

/**
 * Generates a dev PKI valid from a year before `now` for 25 years.
 * @param onProgress called with a short description before each key is generated
 */
export async function createDevPki(options: {
  readonly now: Date;
  readonly onProgress?: (step: string) => void;
}): Promise<DevPki> {
  const year = 365 * 86_400_000;
  const validity = {
    notBefore: new Date(options.now.getTime() - year),
    notAfter: new Date(options.now.getTime() + 25 * year),
  };
  const step = options.onProgress ?? (() => undefined);
  const snp: Partial<Record<SnpProduct, { ark: IssuingCa; ask: IssuingCa; asvk: IssuingCa }>> = {};
  for (const product of SNP_PRODUCTS) {
    step(`${product} ARK, ASK and ASVK (RSA-4096)`);
    const ark = await createCa(`CN=ARK-${product}, ${ORGANIZATION}`, 'RSA-PSS-SHA384', validity);
    const [ask, asvk] = await Promise.all([
      createCa(`CN=SEV-${product}, ${ORGANIZATION}`, 'RSA-PSS-SHA384', validity, ark),
      createCa(`CN=SEV-VLEK-${product}, ${ORGANIZATION}`, 'RSA-PSS-SHA384', validity, ark),
    ]);
    snp[product] = { ark, ask, asvk };
  }
  step('Nitro root and intermediates (P-384)');
  const nitro: IssuingCa[] = [];
  for (const name of NITRO_NAMES)
    nitro.push(
      await createCa(
        `CN=${name}, O=Veritee Simulator, OU=AWS, C=US`,
        'ECDSA-SHA384',
        validity,
        nitro[nitro.length - 1],
      ),
    );
  return { snp: snp as DevPki['snp'], nitro };
}

interface SerializedCa {
  readonly certificate: string;
  readonly privateKey: string;
}

/** JSON text holding every certificate (PEM) and private key (PKCS#8, base64): keep it owner-only. */
export async function serializeDevPki(pki: DevPki): Promise<string> {
  const ca = async (entry: IssuingCa): Promise<SerializedCa> => ({
    certificate: entry.certificate.native.toString(),
    privateKey: Buffer.from(await exportPrivateKey(entry.keys.privateKey)).toString('base64'),
  });
  const snp: Record<string, Record<string, SerializedCa>> = {};
  for (const product of SNP_PRODUCTS) {
    const { ark, ask, asvk } = pki.snp[product];
    snp[product] = { ark: await ca(ark), ask: await ca(ask), asvk: await ca(asvk) };
  }
  return `${JSON.stringify({ format: DEV_PKI_FORMAT, snp, nitro: await Promise.all(pki.nitro.map(ca)) }, null, 2)}\n`;
}

/**
 * Loads a serialized dev PKI.
 * @throws ConfigError DEV_PKI_INVALID
 */
export async function parseDevPki(text: string): Promise<DevPki> {
  try {
    const data = JSON.parse(text) as {
      format: string;
      snp: Record<SnpProduct, Record<'ark' | 'ask' | 'asvk', SerializedCa>>;
      nitro: SerializedCa[];
    };
    if (data.format !== DEV_PKI_FORMAT)
      throw new ConfigError('DEV_PKI_INVALID', `dev PKI format is not ${DEV_PKI_FORMAT}`);
    const ca = async (entry: SerializedCa, algorithm: IssuingAlgorithm): Promise<IssuingCa> => {
      const certificate = parseCertificate(entry.certificate);
      return {
        certificate,
        keys: await importIssuingKeyPair(
          Buffer.from(entry.privateKey, 'base64'),
          certificate,
          algorithm,
        ),
        algorithm,
      };
    };
    const snp: Partial<Record<SnpProduct, { ark: IssuingCa; ask: IssuingCa; asvk: IssuingCa }>> =
      {};
    for (const product of SNP_PRODUCTS) {
      const entry = data.snp[product];
      snp[product] = {
        ark: await ca(entry.ark, 'RSA-PSS-SHA384'),
        ask: await ca(entry.ask, 'RSA-PSS-SHA384'),
        asvk: await ca(entry.asvk, 'RSA-PSS-SHA384'),
      };
    }
    const nitro = await Promise.all(data.nitro.map((entry) => ca(entry, 'ECDSA-SHA384')));
    if (nitro.length < 2)
      throw new ConfigError(
        'DEV_PKI_INVALID',
        'dev PKI needs a Nitro root and at least one intermediate',
      );
    return { snp: snp as DevPki['snp'], nitro };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('DEV_PKI_INVALID', 'dev PKI file is not a valid serialized dev PKI', {
      cause: error,
    });
  }
}

/** Trust anchors for the dev PKI, each marked simulated. */
export function devTrustStore(pki: DevPki): TrustStore {
  const root = pki.nitro[0];
  if (root === undefined) throw new ConfigError('DEV_PKI_INVALID', 'dev PKI has no Nitro root');
  return {
    snp: SNP_PRODUCTS.map((product) => {
      const { ark, ask, asvk } = pki.snp[product];
      return createSnpAnchor(
        product,
        { ark: ark.certificate, ask: ask.certificate, asvk: asvk.certificate },
        true,
      );
    }),
    nitro: [createNitroAnchor(root.certificate, true)],
  };
}
