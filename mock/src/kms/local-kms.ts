/**
 * A local AWS KMS endpoint for development and tests: an HTTP server that
 * speaks KMS's JSON 1.1 protocol (POST /, `X-Amz-Target: TrentService.<Op>`)
 * for the calls Veritee makes, so the real @aws-sdk/client-kms runs against
 * it unchanged. It holds keys in memory and does not check SigV4 signatures.
 *
 * Operations: CreateKey, GetPublicKey, Sign (ECC_NIST_P256, ECDSA_SHA_256),
 * GenerateDataKey, Encrypt, Decrypt, the last two with `Recipient`: the Nitro
 * attestation document is verified (chain to the configured roots, COSE
 * signature), the key policy's `kms:RecipientAttestation:*` conditions are
 * enforced, and the result comes back as a CMS EnvelopedData for the
 * document's RSA key, as KMS returns it.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSign,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toHex } from '@veritee/attestations';
import { type TrustStore } from '@veritee/attestations/evidence';
import { parseNitroDocument, verifyNitro } from '@veritee/attestations/nitro';
import { createEnvelopedData as envelopeForRecipient } from '@veritee/attestations/seal';
import { evaluateKeyPolicy, type RecipientClaims } from './key-policy.js';

interface Key {
  readonly id: string;
  readonly arn: string;
  readonly spec: 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT';
  readonly usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  readonly policy: unknown;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
  readonly secret?: Buffer;
}

/** A KMS error as the SDK expects it: its `__type` and an HTTP status. */
class KmsFault extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export interface LocalKmsOptions {
  /** Roots that Recipient attestation documents must chain to. */
  readonly trust: TrustStore;
  /** Accept documents from a simulated (dev) Nitro root. Default false. */
  readonly allowSimulated?: boolean;
  readonly clock?: () => Date;
  readonly region?: string;
}

export interface LocalKms {
  /** The endpoint to give the SDK: `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every call the endpoint answered, by operation name, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

const ACCOUNT = '111122223333';
const BLOB_MAGIC = Buffer.from('VKMS1');
const DOCUMENT_MAX_AGE_MS = 5 * 60 * 1000;

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '')
    throw new KmsFault('ValidationException', `${name} is required`);
  return value;
}

export async function startLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  const region = options.region ?? 'us-east-1';
  const clock = options.clock ?? (() => new Date());
  const keys = new Map<string, Key>();
  const calls: string[] = [];

  const lookup = (keyId: string): Key => {
    const id = keyId.startsWith('arn:') ? (keyId.split('/').pop() ?? '') : keyId;
    const key = keys.get(id);
    if (key === undefined) throw new KmsFault('NotFoundException', `Key '${keyId}' does not exist`);
    return key;
  };

  const sealBlob = (key: Key, plaintext: Buffer): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.secret ?? Buffer.alloc(32), iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const id = Buffer.from(key.id);
    return Buffer.concat([BLOB_MAGIC, Buffer.from([id.length]), id, iv, body]);
  };

  const openBlob = (blob: Buffer): { key: Key; plaintext: Buffer } => {
    if (!blob.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC))
      throw new KmsFault('InvalidCiphertextException', 'The ciphertext is invalid');
    const idLength = blob[BLOB_MAGIC.length] ?? 0;
    const idStart = BLOB_MAGIC.length + 1;
    const key = lookup(blob.subarray(idStart, idStart + idLength).toString());
    const iv = blob.subarray(idStart + idLength, idStart + idLength + 12);
    const body = blob.subarray(idStart + idLength + 12);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.secret ?? Buffer.alloc(32), iv);
      decipher.setAuthTag(body.subarray(body.length - 16));
      return {
        key,
        plaintext: Buffer.concat([
          decipher.update(body.subarray(0, body.length - 16)),
          decipher.final(),
        ]),
      };
    } catch {
      throw new KmsFault('InvalidCiphertextException', 'The ciphertext is invalid');
    }
  };

  /** Verifies a Recipient's attestation document and the key policy's conditions on it. */
  const recipient = (key: Key, action: string, body: Record<string, unknown>) => {
    const info = body['Recipient'] as
      { AttestationDocument?: string; KeyEncryptionAlgorithm?: string } | undefined;
    if (info === undefined) {
      const decision = evaluateKeyPolicy(key.policy, action, undefined);
      if (!decision.allowed) throw new KmsFault('AccessDeniedException', decision.reason);
      return undefined;
    }
    if (info.KeyEncryptionAlgorithm !== 'RSAES_OAEP_SHA_256')
      throw new KmsFault(
        'ValidationException',
        'KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256',
      );
    let claims: RecipientClaims;
    let publicKey: Uint8Array;
    try {
      const document = parseNitroDocument(Buffer.from(info.AttestationDocument ?? '', 'base64'));
      const verified = verifyNitro(document, {
        trust: options.trust,
        at: clock(),
        allowSimulated: options.allowSimulated ?? false,
      });
      const { payload } = verified.document;
      if (payload.publicKey === null) throw new Error('the document binds no public key');
      // KMS accepts documents only while fresh.
      if (Math.abs(clock().getTime() - payload.timestamp) > DOCUMENT_MAX_AGE_MS)
        throw new Error('the document is older than 5 minutes');
      publicKey = payload.publicKey;
      const pcrs: Record<string, string> = {};
      for (const [index, value] of payload.pcrs) pcrs[`PCR${index}`] = toHex(value);
      claims = { ImageSha384: pcrs['PCR0'] ?? '', ...pcrs };
    } catch (error) {
      throw new KmsFault(
        'InvalidAttestationDocumentException',
        `The attestation document is not valid: ${(error as Error).message.slice(0, 200)}`,
      );
    }
    const decision = evaluateKeyPolicy(key.policy, action, claims);
    if (!decision.allowed) throw new KmsFault('AccessDeniedException', decision.reason);
    return publicKey;
  };

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    CreateKey(body) {
      const spec = (body['KeySpec'] ?? 'SYMMETRIC_DEFAULT') as string;
      if (spec !== 'ECC_NIST_P256' && spec !== 'SYMMETRIC_DEFAULT')
        throw new KmsFault(
          'UnsupportedOperationException',
          `KeySpec ${spec} is not supported here`,
        );
      const id = randomUUID();
      const arn = `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`;
      const policy =
        typeof body['Policy'] === 'string' ? (JSON.parse(body['Policy']) as unknown) : undefined;
      const key: Key =
        spec === 'ECC_NIST_P256'
          ? {
              id,
              arn,
              spec,
              usage: 'SIGN_VERIFY',
              policy,
              ...generateKeyPairSync('ec', { namedCurve: 'P-256' }),
            }
          : { id, arn, spec, usage: 'ENCRYPT_DECRYPT', policy, secret: randomBytes(32) };
      keys.set(id, key);
      return {
        KeyMetadata: {
          KeyId: id,
          Arn: arn,
          AWSAccountId: ACCOUNT,
          CreationDate: clock().getTime() / 1000,
          Enabled: true,
          KeyState: 'Enabled',
          KeySpec: spec,
          KeyUsage: key.usage,
          ...(spec === 'ECC_NIST_P256'
            ? { SigningAlgorithms: ['ECDSA_SHA_256'] }
            : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
        },
      };
    },
    GetPublicKey(body) {
      const key = lookup(field(body, 'KeyId'));
      if (key.publicKey === undefined)
        throw new KmsFault('UnsupportedOperationException', 'The key has no public key');
      return {
        KeyId: key.arn,
        KeySpec: key.spec,
        KeyUsage: key.usage,
        PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        SigningAlgorithms: ['ECDSA_SHA_256'],
      };
    },
    Sign(body) {
      const key = lookup(field(body, 'KeyId'));
      if (key.privateKey === undefined || key.usage !== 'SIGN_VERIFY')
        throw new KmsFault('InvalidKeyUsageException', 'The key is not for signing');
      if (body['SigningAlgorithm'] !== 'ECDSA_SHA_256')
        throw new KmsFault('ValidationException', 'SigningAlgorithm must be ECDSA_SHA_256');
      const message = Buffer.from(field(body, 'Message'), 'base64');
      if ((body['MessageType'] ?? 'RAW') !== 'RAW')
        throw new KmsFault('UnsupportedOperationException', 'only MessageType RAW is served here');
      if (message.length > 4096)
        throw new KmsFault('ValidationException', 'Message must be at most 4096 bytes');
      // DER-encoded ECDSA, as KMS returns it.
      const signature = createSign('sha256').update(message).sign(key.privateKey);
      return {
        KeyId: key.arn,
        Signature: signature.toString('base64'),
        SigningAlgorithm: 'ECDSA_SHA_256',
      };
    },
    GenerateDataKey(body) {
      const key = lookup(field(body, 'KeyId'));
      const size = body['KeySpec'] === 'AES_128' ? 16 : Number(body['NumberOfBytes'] ?? 32);
      const plaintext = randomBytes(size);
      const forRecipient = recipient(key, 'kms:GenerateDataKey', body);
      return {
        KeyId: key.arn,
        CiphertextBlob: sealBlob(key, plaintext).toString('base64'),
        ...(forRecipient === undefined
          ? { Plaintext: plaintext.toString('base64') }
          : {
              CiphertextForRecipient: Buffer.from(
                envelopeForRecipient(forRecipient, plaintext),
              ).toString('base64'),
            }),
      };
    },
    Encrypt(body) {
      const key = lookup(field(body, 'KeyId'));
      return {
        KeyId: key.arn,
        CiphertextBlob: sealBlob(key, Buffer.from(field(body, 'Plaintext'), 'base64')).toString(
          'base64',
        ),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    Decrypt(body) {
      const { key, plaintext } = openBlob(Buffer.from(field(body, 'CiphertextBlob'), 'base64'));
      if (typeof body['KeyId'] === 'string' && lookup(body['KeyId']).id !== key.id)
        throw new KmsFault(
          'IncorrectKeyException',
          'The ciphertext was encrypted under another key',
        );
      const forRecipient = recipient(key, 'kms:Decrypt', body);
      return {
        KeyId: key.arn,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        ...(forRecipient === undefined
          ? { Plaintext: plaintext.toString('base64') }
          : {
              CiphertextForRecipient: Buffer.from(
                envelopeForRecipient(forRecipient, plaintext),
              ).toString('base64'),
            }),
      };
    },
  };

  const answer = (response: ServerResponse, status: number, body: unknown, type?: string) => {
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(type === undefined ? {} : { 'x-amzn-errortype': type }),
    });
    response.end(JSON.stringify(body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const name = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    calls.push(name);
    try {
      const operation = operations[name];
      if (request.method !== 'POST' || operation === undefined)
        throw new KmsFault(
          'UnknownOperationException',
          `${name || 'no operation'} is not supported here`,
        );
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >;
      } catch {
        throw new KmsFault('SerializationException', 'the body is not JSON');
      }
      answer(response, 200, operation(body));
    } catch (error) {
      const fault =
        error instanceof KmsFault
          ? error
          : new KmsFault('KMSInternalException', 'internal error', 500);
      answer(response, fault.status, { __type: fault.type, message: fault.message }, fault.type);
    }
  };

  const server: Server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An SDK client for a local endpoint: any region and credentials do, since it checks no signatures. */
export function localKmsClient(endpoint: string): KMSClient {
  return new KMSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
