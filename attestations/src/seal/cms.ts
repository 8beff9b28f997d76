/**
 * CMS EnvelopedData (RFC 5652) as AWS KMS returns it in
 * `CiphertextForRecipient`: version 2, one KeyTransRecipientInfo (version 2,
 * subjectKeyIdentifier) whose content-encryption key is wrapped with
 * RSAES-OAEP (SHA-256, MGF1-SHA-256), and AES-256-CBC content. The one
 * node-forge adapter: forge reads and writes the ASN.1; node:crypto does the
 * RSA and AES.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import forge from 'node-forge';
import { ChainError, EvidenceError } from '../errors.js';

const { asn1 } = forge;
const OID = {
  envelopedData: '1.2.840.113549.1.7.3',
  data: '1.2.840.113549.1.7.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  sha256: '2.16.840.1.101.3.4.2.1',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;
/** Largest EnvelopedData accepted: KMS plaintexts are at most 4 KiB. */
const MAX_SIZE = 64 * 1024;

const bytes = (value: Uint8Array) => forge.util.binary.raw.encode(value);
const node = (
  tagClass: number,
  type: number,
  constructed: boolean,
  value: forge.asn1.Asn1[] | string,
) => asn1.create(tagClass, type, constructed, value);
const { UNIVERSAL, CONTEXT_SPECIFIC } = asn1.Class;
const T = asn1.Type;
const seq = (items: forge.asn1.Asn1[]) => node(UNIVERSAL, T.SEQUENCE, true, items);
const oid = (value: string) => node(UNIVERSAL, T.OID, false, asn1.oidToDer(value).getBytes());
const int = (value: number) => node(UNIVERSAL, T.INTEGER, false, String.fromCharCode(value));
const octets = (value: Uint8Array) => node(UNIVERSAL, T.OCTETSTRING, false, bytes(value));
const sha256Id = () => seq([oid(OID.sha256)]);

/** RFC 5280 key identifier method 1: SHA-1 of the subjectPublicKey bits (the PKCS#1 RSAPublicKey). */
function subjectKeyIdentifier(publicKey: KeyObject): Uint8Array {
  return createHash('sha1')
    .update(publicKey.export({ format: 'der', type: 'pkcs1' }))
    .digest();
}

/**
 * Envelopes `plaintext` for the holder of the RSA key `spki` (DER).
 * @throws EvidenceError CMS_MALFORMED when `spki` is not an RSA public key
 */
export function createEnvelopedData(spki: Uint8Array, plaintext: Uint8Array): Uint8Array {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (error) {
    throw new EvidenceError('CMS_MALFORMED', 'the recipient key is not a DER public key', {
      cause: error,
    });
  }
  if (publicKey.asymmetricKeyType !== 'rsa')
    throw new EvidenceError('CMS_MALFORMED', 'the recipient key is not RSA');
  const contentKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
  const content = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const wrapped = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    contentKey,
  );
  const oaepParams = seq([
    node(CONTEXT_SPECIFIC, 0, true, [sha256Id()]),
    node(CONTEXT_SPECIFIC, 1, true, [seq([oid(OID.mgf1), sha256Id()])]),
  ]);
  const recipient = seq([
    int(2),
    node(CONTEXT_SPECIFIC, 0, false, bytes(subjectKeyIdentifier(publicKey))),
    seq([oid(OID.rsaesOaep), oaepParams]),
    octets(wrapped),
  ]);
  const enveloped = seq([
    int(2),
    node(UNIVERSAL, T.SET, true, [recipient]),
    seq([
      oid(OID.data),
      seq([oid(OID.aes256Cbc), octets(iv)]),
      node(CONTEXT_SPECIFIC, 0, false, bytes(content)),
    ]),
  ]);
  const info = seq([oid(OID.envelopedData), node(CONTEXT_SPECIFIC, 0, true, [enveloped])]);
  return new Uint8Array(Buffer.from(asn1.toDer(info).getBytes(), 'binary'));
}

function children(value: forge.asn1.Asn1 | undefined, what: string): forge.asn1.Asn1[] {
  if (value === undefined || !Array.isArray(value.value))
    throw new EvidenceError('CMS_MALFORMED', `${what} is not a constructed value`);
  return value.value;
}

function primitive(value: forge.asn1.Asn1 | undefined, what: string): string {
  if (value === undefined || typeof value.value !== 'string')
    throw new EvidenceError('CMS_MALFORMED', `${what} is not a primitive value`);
  return value.value;
}

function expectOid(value: forge.asn1.Asn1 | undefined, expected: string, what: string): void {
  if (
    value?.type !== T.OID ||
    asn1.derToOid(forge.util.createBuffer(primitive(value, what))) !== expected
  )
    throw new EvidenceError('CMS_MALFORMED', `${what} is not ${expected}`);
}

/** Concatenated primitive content, whether the string is primitive or (BER) constructed. */
function octetContent(value: forge.asn1.Asn1 | undefined, what: string): Buffer {
  if (value !== undefined && Array.isArray(value.value))
    return Buffer.concat(value.value.map((part) => octetContent(part, what)));
  return Buffer.from(primitive(value, what), 'binary');
}

/**
 * Opens an EnvelopedData with the recipient's RSA private key.
 * @throws EvidenceError CMS_MALFORMED for anything but the structure KMS sends
 * @throws ChainError CMS_OPEN_FAILED when the key does not open it or it was altered
 */
export function openEnvelopedData(der: Uint8Array, privateKey: KeyObject): Uint8Array {
  if (der.byteLength > MAX_SIZE)
    throw new EvidenceError(
      'CMS_MALFORMED',
      `EnvelopedData is ${der.byteLength} bytes; at most ${MAX_SIZE}`,
    );
  let info: forge.asn1.Asn1;
  try {
    // Strict: every length must fit; forge also refuses trailing bytes by default.
    info = asn1.fromDer(bytes(der), true);
  } catch (error) {
    throw new EvidenceError('CMS_MALFORMED', 'EnvelopedData is not BER', { cause: error });
  }
  const [contentType, wrapper] = children(info, 'ContentInfo');
  expectOid(contentType, OID.envelopedData, 'contentType');
  const [version, recipients, encrypted] = children(
    children(wrapper, 'content')[0],
    'EnvelopedData',
  );
  if (primitive(version, 'version') !== '\x02')
    throw new EvidenceError('CMS_MALFORMED', 'EnvelopedData version is not 2');
  const recipientList = children(recipients, 'recipientInfos');
  if (recipientList.length !== 1)
    throw new EvidenceError('CMS_MALFORMED', 'expected exactly one recipient');
  const [recipientVersion, , keyAlgorithm, encryptedKey] = children(
    recipientList[0],
    'KeyTransRecipientInfo',
  );
  if (primitive(recipientVersion, 'recipient version') !== '\x02')
    throw new EvidenceError('CMS_MALFORMED', 'KeyTransRecipientInfo version is not 2');
  expectOid(
    children(keyAlgorithm, 'keyEncryptionAlgorithm')[0],
    OID.rsaesOaep,
    'keyEncryptionAlgorithm',
  );
  const [dataType, contentAlgorithm, content] = children(encrypted, 'EncryptedContentInfo');
  expectOid(dataType, OID.data, 'encrypted content type');
  const [cipherOid, ivNode] = children(contentAlgorithm, 'contentEncryptionAlgorithm');
  expectOid(cipherOid, OID.aes256Cbc, 'contentEncryptionAlgorithm');
  const iv = octetContent(ivNode, 'IV');
  if (iv.length !== 16) throw new EvidenceError('CMS_MALFORMED', 'the IV is not 16 bytes');
  try {
    const contentKey = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      octetContent(encryptedKey, 'encryptedKey'),
    );
    const decipher = createDecipheriv('aes-256-cbc', contentKey, iv);
    return new Uint8Array(
      Buffer.concat([decipher.update(octetContent(content, 'encryptedContent')), decipher.final()]),
    );
  } catch (error) {
    throw new ChainError(
      'CMS_OPEN_FAILED',
      'the EnvelopedData was not made for this key or was altered',
      {
        cause: error,
      },
    );
  }
}
