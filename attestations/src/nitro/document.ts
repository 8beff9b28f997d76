/**
 * The AWS Nitro Enclaves attestation document: a COSE_Sign1 (RFC 9052, section
 * 4.2), tagged (18) or not, whose payload is a CBOR map with exactly the fields
 * of the NSM API's AttestationDoc (aws-nitro-enclaves-nsm-api, "Attestation
 * document specification"). Every field's type and size is checked.
 */
import { decodeCbor, encodeCbor, Tag } from '../cbor.js';
import { EvidenceError } from '../errors.js';

/** Upper bound on a whole document; genuine ones are 4-6 KiB. */
export const NITRO_DOCUMENT_MAX_SIZE = 32 * 1024;
/** COSE tag for COSE_Sign1 (RFC 9052, Table 1). */
export const COSE_SIGN1_TAG = 18;
/** COSE algorithm ES384 (RFC 9053, Table 1). */
export const COSE_ALG_ES384 = -35;
/** NSM limits: user_data and nonce at most 512 bytes, public_key at most 1024 (nsm-api). */
export const NITRO_USER_DATA_MAX = 512;
export const NITRO_NONCE_MAX = 512;
export const NITRO_PUBLIC_KEY_MAX = 1024;
/** PCR indices 0-31; values are SHA-384 (48 bytes) for digest SHA384. */
export const NITRO_PCR_COUNT = 32;
export const NITRO_PCR_SIZE = 48;
const CABUNDLE_MAX = 8;
const CERTIFICATE_MAX = 4096;

/** The signed payload of a document. */
export interface NitroPayload {
  readonly moduleId: string;
  readonly digest: 'SHA384';
  readonly timestamp: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly certificate: Uint8Array;
  /** Root first, then intermediates, each DER. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

/** A parsed document; the protected header and payload keep their exact bytes, since they are signed. */
export interface NitroDocument {
  readonly tagged: boolean;
  readonly protectedHeader: Uint8Array;
  readonly algorithm: number;
  readonly payloadBytes: Uint8Array;
  readonly payload: NitroPayload;
  readonly signature: Uint8Array;
}

/**
 * Parses a document.
 * @throws EvidenceError NITRO_DOCUMENT_SIZE, NITRO_DOCUMENT_MALFORMED,
 *   NITRO_COSE_ALGORITHM_UNSUPPORTED, NITRO_DOCUMENT_FIELD_INVALID, NITRO_DOCUMENT_FIELD_UNKNOWN
 */
export function parseNitroDocument(bytes: Uint8Array): NitroDocument {
  if (bytes.byteLength === 0 || bytes.byteLength > NITRO_DOCUMENT_MAX_SIZE) {
    throw new EvidenceError(
      'NITRO_DOCUMENT_SIZE',
      `document is ${bytes.byteLength} bytes; expected 1 to ${NITRO_DOCUMENT_MAX_SIZE}`,
    );
  }
  // COSE_Sign1 nests at most: tag, array, map (unprotected header). cbor2 counts an array as two levels.
  const outer = decodeCbor(bytes, { maxDepth: 4, code: 'NITRO_DOCUMENT_MALFORMED' });
  const tagged = outer instanceof Tag;
  if (tagged && outer.tag !== COSE_SIGN1_TAG)
    malformed(`CBOR tag is ${String(outer.tag)}; expected ${COSE_SIGN1_TAG} (COSE_Sign1)`);
  const sign1 = tagged ? outer.contents : outer;
  if (!Array.isArray(sign1) || sign1.length !== 4)
    malformed('COSE_Sign1 is not an array of four items');
  const [protectedHeader, unprotected, payloadBytes, signature] = sign1 as unknown[];
  if (!(protectedHeader instanceof Uint8Array)) malformed('protected header is not a byte string');
  if (!(unprotected instanceof Map) || unprotected.size !== 0)
    malformed('unprotected header is not an empty map');
  if (!(payloadBytes instanceof Uint8Array)) malformed('payload is not a byte string');
  if (!(signature instanceof Uint8Array)) malformed('signature is not a byte string');

  const header = decodeCbor(protectedHeader, { maxDepth: 1, code: 'NITRO_DOCUMENT_MALFORMED' });
  if (!(header instanceof Map) || header.size !== 1 || !header.has(1))
    malformed('protected header must hold exactly the algorithm (label 1)');
  const algorithm = header.get(1) as unknown;
  if (algorithm !== COSE_ALG_ES384) {
    throw new EvidenceError(
      'NITRO_COSE_ALGORITHM_UNSUPPORTED',
      `COSE algorithm is ${String(algorithm).slice(0, 16)}; expected ${COSE_ALG_ES384} (ES384)`,
    );
  }
  if (signature.byteLength !== 96)
    field('signature', `is ${signature.byteLength} bytes; expected 96 (ES384 r||s)`);
  return {
    tagged,
    protectedHeader,
    algorithm,
    payloadBytes,
    payload: parsePayload(payloadBytes),
    signature,
  };
}

/** CBOR tag 18, then array(4): the start of a tagged COSE_Sign1. */
const TAGGED_SIGN1_PREFIX = Uint8Array.of(0xc0 | COSE_SIGN1_TAG, 0x84);
const SIGN1_PREFIX = Uint8Array.of(0x84);
const EMPTY_MAP = Uint8Array.of(0xa0);

/**
 * Encodes a document; `parseNitroDocument(serializeNitroDocument(d))` deep-equals
 * `d`. The shape is fixed, so it is written directly (once per document
 * appraised, for its evidence hash); the tests hold it to cbor2's bytes.
 */
export function serializeNitroDocument(document: NitroDocument): Uint8Array {
  const { protectedHeader, payloadBytes, signature } = document;
  return new Uint8Array(
    Buffer.concat([
      document.tagged ? TAGGED_SIGN1_PREFIX : SIGN1_PREFIX,
      byteStringHead(protectedHeader.byteLength),
      protectedHeader,
      EMPTY_MAP,
      byteStringHead(payloadBytes.byteLength),
      payloadBytes,
      byteStringHead(signature.byteLength),
      signature,
    ]),
  );
}

/** The head of a CBOR byte string (major type 2) of `length` bytes, in its shortest form. */
function byteStringHead(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 | length);
  if (length < 0x100) return Uint8Array.of(0x58, length);
  if (length < 0x10000) return Uint8Array.of(0x59, length >> 8, length & 0xff);
  const head = new Uint8Array(5);
  head[0] = 0x5a;
  new DataView(head.buffer).setUint32(1, length);
  return head;
}

/** CBOR array(4), then the text string "Signature1": the fixed start of every Sig_structure. */
const SIGNATURE1_PREFIX = Uint8Array.of(0x84, 0x6a, ...new TextEncoder().encode('Signature1'));
const EMPTY_BYTE_STRING = Uint8Array.of(0x40);

/**
 * The COSE Sig_structure a COSE_Sign1 signs (RFC 9052, section 4.4), without
 * external AAD: ["Signature1", protected, h'', payload]. Its shape is fixed,
 * so it is written directly rather than through the generic encoder (one per
 * document appraised); the tests hold it to the generic encoder's bytes.
 */
export function coseSign1ToBeSigned(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return Buffer.concat([
    SIGNATURE1_PREFIX,
    byteStringHead(protectedHeader.byteLength),
    protectedHeader,
    EMPTY_BYTE_STRING,
    byteStringHead(payload.byteLength),
    payload,
  ]);
}

/** Encodes a payload map in the field order the NSM uses. */
export function serializeNitroPayload(payload: NitroPayload): Uint8Array {
  return encodeCbor(
    new Map<string, unknown>([
      ['module_id', payload.moduleId],
      ['digest', payload.digest],
      ['timestamp', payload.timestamp],
      ['pcrs', new Map(payload.pcrs)],
      ['certificate', payload.certificate],
      ['cabundle', [...payload.cabundle]],
      ['public_key', payload.publicKey],
      ['user_data', payload.userData],
      ['nonce', payload.nonce],
    ]),
  );
}

const REQUIRED = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle'] as const;
const OPTIONAL = ['public_key', 'user_data', 'nonce'] as const;

function parsePayload(bytes: Uint8Array): NitroPayload {
  // payload map -> pcrs map or cabundle array -> byte strings
  const map = decodeCbor(bytes, { maxDepth: 3, code: 'NITRO_DOCUMENT_MALFORMED' });
  if (!(map instanceof Map)) malformed('payload is not a CBOR map');
  for (const key of map.keys()) {
    if (
      typeof key !== 'string' ||
      !([...REQUIRED, ...OPTIONAL] as readonly string[]).includes(key)
    ) {
      throw new EvidenceError(
        'NITRO_DOCUMENT_FIELD_UNKNOWN',
        `payload has an unknown field ${JSON.stringify(String(key).slice(0, 32))}`,
      );
    }
  }
  for (const key of REQUIRED) if (!map.has(key)) field(key, 'is missing');
  const get = (key: string): unknown => map.get(key);

  const moduleId = get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0 || moduleId.length > 256)
    field('module_id', 'is not a non-empty text string of at most 256 characters');
  if (get('digest') !== 'SHA384') field('digest', 'is not "SHA384"');
  const timestamp = get('timestamp');
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0)
    field('timestamp', 'is not a positive integer (ms since the epoch)');

  const pcrs = get('pcrs');
  if (!(pcrs instanceof Map) || pcrs.size === 0 || pcrs.size > NITRO_PCR_COUNT)
    field('pcrs', `is not a map of 1 to ${NITRO_PCR_COUNT} entries`);
  for (const [index, value] of pcrs) {
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= NITRO_PCR_COUNT
    )
      field('pcrs', 'has an index outside 0-31');
    if (!(value instanceof Uint8Array) || value.byteLength !== NITRO_PCR_SIZE)
      field(`pcrs[${index}]`, `is not ${NITRO_PCR_SIZE} bytes`);
  }
  const certificate = byteString(get('certificate'), 'certificate', 1, CERTIFICATE_MAX);
  const cabundle = get('cabundle');
  if (!Array.isArray(cabundle) || cabundle.length === 0 || cabundle.length > CABUNDLE_MAX)
    field('cabundle', `is not an array of 1 to ${CABUNDLE_MAX} certificates`);
  const bundle = cabundle.map((entry: unknown, index) =>
    byteString(entry, `cabundle[${index}]`, 1, CERTIFICATE_MAX),
  );

  return {
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs: pcrs as Map<number, Uint8Array>,
    certificate,
    cabundle: bundle,
    publicKey: optionalBytes(get('public_key'), 'public_key', NITRO_PUBLIC_KEY_MAX),
    userData: optionalBytes(get('user_data'), 'user_data', NITRO_USER_DATA_MAX),
    nonce: optionalBytes(get('nonce'), 'nonce', NITRO_NONCE_MAX),
  };
}

function byteString(value: unknown, name: string, min: number, max: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength < min || value.byteLength > max)
    field(name, `is not a byte string of ${min} to ${max} bytes`);
  return value;
}

function optionalBytes(value: unknown, name: string, max: number): Uint8Array | null {
  return value === undefined || value === null ? null : byteString(value, name, 0, max);
}

function malformed(message: string): never {
  throw new EvidenceError('NITRO_DOCUMENT_MALFORMED', message);
}

function field(name: string, problem: string): never {
  throw new EvidenceError('NITRO_DOCUMENT_FIELD_INVALID', `${name} ${problem}`);
}
