/**
 * The JSON the enclave answers with, which the host relays and the client and
 * verifier read: standing evidence (`veritee.enclave-evidence/v1`) and an
 * attested answer (`veritee.enclave-answer/v1`). Bytes are base64 (evidence,
 * sealed output) or lower-case hex (hashes, nonce, key). Parsing checks every
 * field and names the bad one.
 */
import { EvidenceError } from '../errors.js';
import { fromBase64, fromHex, toHex } from '../bytes.js';
import type { BatchInclusion, Binding } from './binding.js';

export const ENCLAVE_EVIDENCE_FORMAT = 'veritee.enclave-evidence/v1';
export const ENCLAVE_ANSWER_FORMAT = 'veritee.enclave-answer/v1';

export interface EnclaveEvidence {
  readonly tee: 'sev-snp' | 'nitro';
  readonly simulated: boolean;
  readonly evidence: Uint8Array;
  readonly modelHash: Uint8Array;
  readonly enclaveKey: Uint8Array;
  readonly issuedAt: Date;
}

export interface EnclaveAnswer {
  readonly sealed: Uint8Array;
  readonly evidence: Uint8Array;
  readonly binding: Binding;
  readonly inclusion?: BatchInclusion | undefined;
}

export function enclaveEvidenceToJson(value: EnclaveEvidence): Record<string, unknown> {
  return {
    format: ENCLAVE_EVIDENCE_FORMAT,
    tee: value.tee,
    simulated: value.simulated,
    evidence: Buffer.from(value.evidence).toString('base64'),
    modelHash: toHex(value.modelHash),
    enclaveKey: toHex(value.enclaveKey),
    issuedAt: value.issuedAt.toISOString(),
  };
}

export function bindingToJson(binding: Binding): Record<string, string> {
  return {
    modelHash: toHex(binding.modelHash),
    inputCommitment: toHex(binding.inputCommitment),
    outputHash: toHex(binding.outputHash),
    nonce: toHex(binding.nonce),
    enclaveKey: toHex(binding.enclaveKey),
  };
}

export function inclusionToJson(inclusion: BatchInclusion): Record<string, unknown> {
  return { index: inclusion.index, size: inclusion.size, path: inclusion.path.map(toHex) };
}

export function enclaveAnswerToJson(answer: EnclaveAnswer): Record<string, unknown> {
  return {
    format: ENCLAVE_ANSWER_FORMAT,
    sealed: Buffer.from(answer.sealed).toString('base64'),
    evidence: Buffer.from(answer.evidence).toString('base64'),
    binding: bindingToJson(answer.binding),
    ...(answer.inclusion === undefined ? {} : { inclusion: inclusionToJson(answer.inclusion) }),
  };
}

/** @throws EvidenceError ANSWER_MALFORMED naming the field */
export function parseEnclaveEvidence(value: unknown): EnclaveEvidence {
  const json = object(value, 'evidence document');
  if (json['format'] !== ENCLAVE_EVIDENCE_FORMAT)
    bad('format', `is not ${ENCLAVE_EVIDENCE_FORMAT}`);
  const tee = json['tee'];
  if (tee !== 'sev-snp' && tee !== 'nitro') bad('tee', 'is not sev-snp or nitro');
  if (typeof json['simulated'] !== 'boolean') bad('simulated', 'is not a boolean');
  const issuedAt = new Date(typeof json['issuedAt'] === 'string' ? json['issuedAt'] : NaN);
  if (Number.isNaN(issuedAt.getTime())) bad('issuedAt', 'is not an ISO time');
  return {
    tee,
    simulated: json['simulated'],
    evidence: base64(json['evidence'], 'evidence'),
    modelHash: hex(json['modelHash'], 'modelHash', 32),
    enclaveKey: hex(json['enclaveKey'], 'enclaveKey'),
    issuedAt,
  };
}

/** @throws EvidenceError ANSWER_MALFORMED naming the field */
export function parseBinding(value: unknown): Binding {
  const json = object(value, 'binding');
  return {
    modelHash: hex(json['modelHash'], 'binding.modelHash', 32),
    inputCommitment: hex(json['inputCommitment'], 'binding.inputCommitment', 32),
    outputHash: hex(json['outputHash'], 'binding.outputHash', 32),
    nonce: hex(json['nonce'], 'binding.nonce'),
    enclaveKey: hex(json['enclaveKey'], 'binding.enclaveKey'),
  };
}

/** @throws EvidenceError ANSWER_MALFORMED naming the field */
export function parseInclusion(value: unknown): BatchInclusion {
  const json = object(value, 'inclusion');
  const index = json['index'];
  const size = json['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1)
    bad('inclusion.size', 'is not a positive integer');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= size)
    bad('inclusion.index', 'is not an index inside the batch');
  const path = json['path'];
  if (!Array.isArray(path) || path.length > 64)
    bad('inclusion.path', 'is not a list of at most 64 hashes');
  return { index, size, path: path.map((hash, at) => hex(hash, `inclusion.path[${at}]`, 32)) };
}

/** @throws EvidenceError ANSWER_MALFORMED naming the field */
export function parseEnclaveAnswer(value: unknown): EnclaveAnswer {
  const json = object(value, 'answer');
  if (json['format'] !== ENCLAVE_ANSWER_FORMAT) bad('format', `is not ${ENCLAVE_ANSWER_FORMAT}`);
  return {
    sealed: base64(json['sealed'], 'sealed'),
    evidence: base64(json['evidence'], 'evidence'),
    binding: parseBinding(json['binding']),
    inclusion: json['inclusion'] === undefined ? undefined : parseInclusion(json['inclusion']),
  };
}

function bad(field: string, problem: string): never {
  throw new EvidenceError('ANSWER_MALFORMED', `${field} ${problem}`);
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad(name, 'is not a JSON object');
  return value as Record<string, unknown>;
}

function hex(value: unknown, field: string, size?: number): Uint8Array {
  const bytes = typeof value === 'string' && /^[0-9a-f]*$/.test(value) ? fromHex(value) : undefined;
  if (
    bytes === undefined ||
    bytes.byteLength === 0 ||
    (size !== undefined && bytes.byteLength !== size)
  )
    bad(
      field,
      size === undefined ? 'is not lower-case hex' : `is not ${size} bytes of lower-case hex`,
    );
  return bytes;
}

function base64(value: unknown, field: string): Uint8Array {
  const bytes = typeof value === 'string' && value !== '' ? fromBase64(value) : undefined;
  return bytes ?? bad(field, 'is not base64');
}

export const HOST_ANSWER_FORMAT = 'veritee.host-answer/v1';

/**
 * The receipt's inclusion in the log as the verifier answered it: a signed
 * C2SP checkpoint covering it and the RFC 9162 path to it. The relay cannot
 * forge either; a client checks both against the verifier's pinned log key.
 */
export interface AttachedInclusion {
  readonly size: number;
  /** Hex hashes, leaf to root. */
  readonly path: readonly string[];
  /** The signed checkpoint note of `size`. */
  readonly note: string;
}

/**
 * Most answers one `POST /v1/receipts/batch` carries: hosts gather at most
 * this many, and the verifier refuses more (it commits at most this many at once).
 */
export const RECEIPT_BATCH_MAX_ITEMS = 256;

/** The verifier's receipt for one answer, as the host attaches it. */
export interface AttachedReceipt {
  readonly id: string;
  /** The receipt, a compact JWS. */
  readonly jws: string;
  readonly logIndex: number;
  /** Its inclusion proof and checkpoint, so the client need not ask the verifier. */
  readonly inclusion?: AttachedInclusion | undefined;
}

/** The most hashes an inclusion path holds (a log of 2^64 entries). */
const MAX_PATH = 64;
/** The largest checkpoint note accepted: its lines and a few dozen signatures. */
const MAX_NOTE_CHARS = 16_384;

/**
 * @throws EvidenceError ANSWER_MALFORMED naming the field
 */
export function parseAttachedInclusion(value: unknown, logIndex: number): AttachedInclusion {
  const json = object(value, 'receipt.inclusion');
  const { size, path, note } = json;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= logIndex)
    bad('receipt.inclusion.size', 'is not a log size covering the receipt');
  if (
    !Array.isArray(path) ||
    path.length > MAX_PATH ||
    path.some((hash) => typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))
  )
    bad('receipt.inclusion.path', 'is not a list of SHA-256 hashes');
  if (typeof note !== 'string' || note.length === 0 || note.length > MAX_NOTE_CHARS)
    bad('receipt.inclusion.note', 'is not a checkpoint note');
  return { size: size, path: path as string[], note: note };
}

/** What the host answers a client with: the enclave's answer and, when the verifier issued one, its receipt. */
export interface HostAnswer {
  readonly answer: EnclaveAnswer;
  readonly receipt?: AttachedReceipt | undefined;
  /** Why there is no receipt: the verifier's error code. */
  readonly receiptError?: string | undefined;
}

export function hostAnswerToJson(value: {
  answer: Record<string, unknown>;
  receipt?: AttachedReceipt | undefined;
  receiptError?: string | undefined;
}): Record<string, unknown> {
  return {
    format: HOST_ANSWER_FORMAT,
    answer: value.answer,
    ...(value.receipt === undefined ? {} : { receipt: value.receipt }),
    ...(value.receiptError === undefined ? {} : { receiptError: value.receiptError }),
  };
}

/** @throws EvidenceError ANSWER_MALFORMED naming the field */
export function parseHostAnswer(value: unknown): HostAnswer {
  const json = object(value, 'host answer');
  if (json['format'] !== HOST_ANSWER_FORMAT) bad('format', `is not ${HOST_ANSWER_FORMAT}`);
  const answer = parseEnclaveAnswer(json['answer']);
  let receipt: AttachedReceipt | undefined;
  if (json['receipt'] !== undefined) {
    const attached = object(json['receipt'], 'receipt');
    const { id, jws, logIndex } = attached;
    if (typeof id !== 'string' || !/^[\w-]{1,64}$/.test(id)) bad('receipt.id', 'is not an id');
    if (typeof jws !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(jws))
      bad('receipt.jws', 'is not a compact JWS');
    if (typeof logIndex !== 'number' || !Number.isSafeInteger(logIndex) || logIndex < 0)
      bad('receipt.logIndex', 'is not a log index');
    receipt = {
      id,
      jws,
      logIndex,
      ...(attached['inclusion'] === undefined
        ? {}
        : { inclusion: parseAttachedInclusion(attached['inclusion'], logIndex) }),
    };
  }
  const receiptError = json['receiptError'];
  if (
    receiptError !== undefined &&
    (typeof receiptError !== 'string' || !/^[A-Z_]{1,64}$/.test(receiptError))
  )
    bad('receiptError', 'is not an error code');
  return { answer, receipt, receiptError };
}
