/**
 * Private inference over Oblivious HTTP (RFC 9458): the client seals a Binary
 * HTTP request `POST /v1/infer` (JSON `{ prompt, salt, nonce }` or
 * `{ input, salt, nonce }`, salt and nonce hex) to the enclave's key configuration; the enclave, the Oblivious
 * Gateway, answers a Binary HTTP response whose JSON content
 * (`veritee.inference-result/v1`) holds the output with the evidence and
 * binding that vouch for it, so the attestation travels end to end and the
 * relay (the host) cannot swap it. The key configuration is derived from the
 * enclave's attested X25519 key, so the evidence binds it.
 */
import { createHash } from 'node:crypto';
import { EvidenceError } from '../errors.js';
import { fromBase64, fromHex, toHex } from '../bytes.js';
import { bindingToJson, inclusionToJson, parseBinding, parseInclusion } from '../wire/answer.js';
import type { BatchInclusion, Binding } from '../wire/binding.js';
import {
  inputCommitmentBytes,
  parseInferenceInput,
  type InferenceInput,
} from '../wire/inference-input.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from './bhttp.js';
import {
  generateHpkeKeyPair,
  HPKE_AEAD,
  HPKE_KDF_SHA256,
  HPKE_KEM_X25519,
  type HpkeKeyPair,
} from './hpke.js';
import { decapsulateRequest, encapsulateRequest, type KeyConfig } from './ohttp.js';

export const INFERENCE_RESULT_FORMAT = 'veritee.inference-result/v1';
/** Where the sealed request goes, inside the Binary HTTP message. */
export const INFERENCE_PATH = '/v1/infer';

interface RequestNonces {
  /** 32 random bytes: the input commitment's salt. */
  readonly salt: Uint8Array;
  /** The request nonce the quote binds (16 to 64 bytes). */
  readonly nonce: Uint8Array;
}

/** A plain prompt, or any other input the model's config accepts. */
export type InferenceRequest =
  | (RequestNonces & { readonly prompt: string })
  | (RequestNonces & { readonly input: InferenceInput });

/** The bytes the request's input commitment covers: the UTF-8 prompt, or the input's canonical JSON. */
export function committedInput(request: InferenceRequest): Uint8Array {
  return 'prompt' in request
    ? new TextEncoder().encode(request.prompt)
    : inputCommitmentBytes(request.input);
}

/** The enclave's key pair (raw 32-byte X25519 public key: what quotes bind and clients seal to); the private half never leaves the process. */
export type EnclaveKeyPair = HpkeKeyPair;

/** A fresh enclave key pair. */
export function generateEnclaveKeyPair(): EnclaveKeyPair {
  return generateHpkeKeyPair();
}

/** @throws EvidenceError OHTTP_REQUEST_INVALID for a salt that is not 32 bytes or a nonce not 16 to 64 */
function checkRequest(request: InferenceRequest): void {
  if (request.salt.byteLength !== 32) invalid('salt is not 32 bytes');
  if (request.nonce.byteLength < 16 || request.nonce.byteLength > 64)
    invalid('nonce is not 16 to 64 bytes');
}

/** What the enclave answers inside the encapsulated response. */
export interface InferenceResult {
  readonly output: Uint8Array;
  readonly evidence: Uint8Array;
  readonly binding: Binding;
  readonly inclusion?: BatchInclusion | undefined;
}

/**
 * The key configuration of an enclave key: key id the first byte of
 * SHA-256(key), DHKEM(X25519), HKDF-SHA256 with AES-256-GCM, AES-128-GCM or
 * ChaCha20-Poly1305. Derived, so evidence that binds the key binds the configuration.
 */
export function keyConfigOf(enclaveKey: Uint8Array): KeyConfig {
  return {
    keyId: createHash('sha256').update(enclaveKey).digest()[0] ?? 0,
    kem: HPKE_KEM_X25519,
    publicKey: enclaveKey,
    suites: [HPKE_AEAD.AES_256_GCM, HPKE_AEAD.AES_128_GCM, HPKE_AEAD.CHACHA20_POLY1305].map(
      (aead) => ({ kdf: HPKE_KDF_SHA256, aead }),
    ),
  };
}

function invalid(message: string): never {
  throw new EvidenceError('OHTTP_REQUEST_INVALID', message);
}

/**
 * The client's side: the encapsulated request, and how to open its answer
 * (which throws ChainError OHTTP_OPEN_FAILED, or EvidenceError for a bad result).
 * @throws EvidenceError OHTTP_REQUEST_INVALID for a bad salt or nonce
 */
export function sealInferenceRequest(
  enclaveKey: Uint8Array,
  request: InferenceRequest,
): { encapsulated: Uint8Array; openResult: (encapsulatedResponse: Uint8Array) => InferenceResult } {
  checkRequest(request);
  const content = new TextEncoder().encode(
    JSON.stringify({
      ...('prompt' in request ? { prompt: request.prompt } : { input: request.input }),
      salt: toHex(request.salt),
      nonce: toHex(request.nonce),
    }),
  );
  const { encapsulated, openResponse } = encapsulateRequest(
    keyConfigOf(enclaveKey),
    encodeRequest({
      method: 'POST',
      scheme: 'https',
      authority: 'enclave',
      path: INFERENCE_PATH,
      headers: [['content-type', 'application/json']],
      content,
    }),
  );
  return {
    encapsulated,
    openResult: (response) => parseResult(decodeResponse(openResponse(response))),
  };
}

/**
 * The enclave's side: opens an encapsulated request to its key and returns the
 * inference request and how to seal the result back.
 * @throws EvidenceError OHTTP_MALFORMED, OHTTP_KEY_UNKNOWN, BHTTP_MALFORMED, OHTTP_REQUEST_INVALID
 * @throws ChainError OHTTP_OPEN_FAILED
 */
export function openInferenceRequest(
  keyPair: HpkeKeyPair,
  encapsulated: Uint8Array,
): { request: InferenceRequest; sealResult: (result: InferenceResult) => Uint8Array } {
  const opened = decapsulateRequest(
    { config: keyConfigOf(keyPair.publicKey), keyPair },
    encapsulated,
  );
  const message = decodeRequest(opened.request);
  if (message.method !== 'POST' || message.path !== INFERENCE_PATH)
    invalid(`the sealed request is not POST ${INFERENCE_PATH}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(message.content)) as Record<
      string,
      unknown
    >;
  } catch {
    return invalid('the sealed request is not JSON');
  }
  const { prompt, input, salt, nonce } = json;
  if ((prompt === undefined) === (input === undefined))
    invalid('the request holds neither or both of prompt and input');
  if (prompt !== undefined && typeof prompt !== 'string') invalid('prompt is not text');
  const saltBytes = typeof salt === 'string' ? fromHex(salt) : undefined;
  const nonceBytes = typeof nonce === 'string' ? fromHex(nonce) : undefined;
  if (saltBytes === undefined || nonceBytes === undefined) invalid('salt and nonce are hex');
  const nonces = { salt: saltBytes, nonce: nonceBytes };
  const request: InferenceRequest =
    typeof prompt === 'string'
      ? { prompt, ...nonces }
      : { input: parseInferenceInput(input), ...nonces };
  checkRequest(request);
  return {
    request,
    sealResult: (result) =>
      opened.sealResponse(
        encodeResponse({
          status: 200,
          headers: [['content-type', 'application/json']],
          content: new TextEncoder().encode(
            JSON.stringify({
              format: INFERENCE_RESULT_FORMAT,
              output: Buffer.from(result.output).toString('base64'),
              evidence: Buffer.from(result.evidence).toString('base64'),
              binding: bindingToJson(result.binding),
              ...(result.inclusion === undefined
                ? {}
                : { inclusion: inclusionToJson(result.inclusion) }),
            }),
          ),
        }),
      ),
  };
}

function parseResult(response: ReturnType<typeof decodeResponse>): InferenceResult {
  if (response.status !== 200) invalid(`the enclave answered ${response.status}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(response.content)) as Record<string, unknown>;
  } catch {
    return invalid('the sealed result is not JSON');
  }
  const base64 = (value: unknown, name: string) =>
    (typeof value === 'string' ? fromBase64(value) : undefined) ?? invalid(`${name} is not base64`);
  if (json['format'] !== INFERENCE_RESULT_FORMAT)
    invalid(`the sealed result is not ${INFERENCE_RESULT_FORMAT}`);
  return {
    output: base64(json['output'], 'output'),
    evidence: base64(json['evidence'], 'evidence'),
    binding: parseBinding(json['binding']),
    ...(json['inclusion'] === undefined ? {} : { inclusion: parseInclusion(json['inclusion']) }),
  };
}
