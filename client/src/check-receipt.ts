/**
 * Checks a receipt the way a relying party would, against the verifier the
 * client was given (never one the receipt or the host names): issued by it,
 * signed by one of its pinned keys while that key was current, included in its
 * current signed checkpoint, and with claims that name exactly the checked
 * answer (model, commitment, output, nonce, key, evidence).
 */
import { toHex, UpstreamError } from '@veritee/attestations';
import {
  verifyReceipt,
  type ReceiptCheck,
  type VerifierIdentity,
  type WitnessRequirement,
} from '@veritee/attestations/receipt';
import { parseNoteVerifier, peekCheckpointSize } from '@veritee/attestations/tlog';
import { type AttachedReceipt } from '@veritee/attestations/wire';
import type { CheckedAnswer } from './check-answer.js';
import type { Http } from './http.js';
import { Refused } from './refused.js';
import { field } from './json-field.js';

/**
 * @throws Refused CLIENT_RECEIPT_MISSING, CLIENT_RECEIPT_MISMATCH
 * @throws ChainError RECEIPT_BAD_SIGNATURE, RECEIPT_NOT_IN_LOG; EvidenceError RECEIPT_MALFORMED
 */
export async function checkReceipt(input: {
  receipt: AttachedReceipt | undefined;
  receiptError: string | undefined;
  answer: CheckedAnswer;
  verifier: VerifierIdentity;
  http: Http;
  at: Date;
  allowSimulated: boolean;
  /** Cosignatures the checkpoint must carry; then the published /checkpoint is waited for. */
  witnesses?: WitnessRequirement | undefined;
  /** How long to wait for the witnessed checkpoint to cover the receipt. */
  waitMs: number;
}): Promise<ReceiptCheck> {
  const { receipt, answer, http } = input;
  if (receipt === undefined)
    throw new Refused(
      'CLIENT_RECEIPT_MISSING',
      `the host attached no receipt (${input.receiptError ?? 'no reason given'})`,
    );
  const base = input.verifier.issuer;
  // The verifier's own answer carries a checkpoint and path; the relay can drop them, never
  // forge them (both are checked against the pinned log key). Witnesses need the published one.
  const attached =
    receipt.inclusion !== undefined &&
    input.witnesses === undefined &&
    input.verifier.logKey !== undefined
      ? receipt.inclusion
      : undefined;
  let signed: string;
  let inclusionPath: string[];
  if (attached !== undefined) {
    signed = attached.note;
    inclusionPath = [...attached.path];
  } else {
    const covering = await checkpointCovering(input, receipt.logIndex);
    signed = covering.signed;
    const proof = await http.getJson(
      `${base}/v1/log/proofs/inclusion?index=${receipt.logIndex}&size=${covering.size}`,
    );
    const path = field(proof, 'path');
    inclusionPath = Array.isArray(path) ? path.map(String) : [];
  }
  const check = await verifyReceipt({
    receipt: receipt.jws,
    verifier: input.verifier,
    checkpoint: signed,
    inclusionPath,
    at: input.at,
    expect: { allowSimulated: input.allowSimulated },
    witnesses: input.witnesses,
  });
  const { claims } = check;
  const { binding } = answer;
  const expected: Array<[string, string, string]> = [
    ['jti', claims.jti, receipt.id],
    ['model_hash', claims.model_hash, toHex(binding.modelHash)],
    ['input_commitment', claims.input_commitment, toHex(binding.inputCommitment)],
    ['output_hash', claims.output_hash, toHex(binding.outputHash)],
    ['nonce', claims.nonce, toHex(binding.nonce)],
    ['enclave_key', claims.enclave_key, toHex(binding.enclaveKey)],
    ['evidence_hash', claims.evidence_hash, toHex(answer.verdict.claims.evidenceHash)],
    ['tee.simulated', String(claims.tee.simulated), String(answer.verdict.simulated)],
    ['log.index', String(claims.log.index), String(receipt.logIndex)],
  ];
  const wrong = expected.filter(([, found, want]) => found !== want).map(([name]) => name);
  if (wrong.length > 0)
    throw new Refused(
      'CLIENT_RECEIPT_MISMATCH',
      `the receipt's claims differ from the checked answer in ${wrong.join(', ')}`,
    );
  return check;
}

/**
 * A checkpoint of the verifier covering `index`: with witnesses required, the
 * published C2SP checkpoint (polled until the witnesses have caught up); with
 * a pinned log key, the current C2SP checkpoint; else the current JWS one.
 * The size is read unverified, only to ask for the right proof.
 */
async function checkpointCovering(
  input: {
    verifier: VerifierIdentity;
    http: Http;
    witnesses?: WitnessRequirement | undefined;
    waitMs: number;
  },
  index: number,
): Promise<{ size: number; signed: string }> {
  const base = input.verifier.issuer;
  const deadline = Date.now() + input.waitMs;
  for (;;) {
    let size: unknown;
    let signed: unknown;
    if (input.witnesses !== undefined) {
      signed = await input.http.getText(`${base}/checkpoint`);
      size = peekCheckpointSize(signed as string);
    } else {
      const head = await input.http.getJson(`${base}/v1/log/checkpoint`);
      size = field(head, 'size');
      signed = field(head, input.verifier.logKey === undefined ? 'checkpoint' : 'note');
    }
    if (typeof size === 'number' && typeof signed === 'string' && size > index)
      return { size, signed };
    if (input.witnesses === undefined || Date.now() > deadline)
      throw new Refused(
        'CLIENT_RECEIPT_MISMATCH',
        `the verifier's checkpoint does not cover log index ${index}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The verifier's log key as its /v1/log names it; undefined for a verifier without one. */
export async function fetchLogKey(http: Http, base: string): Promise<string | undefined> {
  let log: unknown;
  try {
    log = await http.getJson(`${base}/v1/log`);
  } catch (error) {
    if (error instanceof UpstreamError && / 404 /.test(error.message)) return undefined;
    throw error;
  }
  const key = field(log, 'key');
  return typeof key === 'string' ? parseNoteVerifier(key).vkey : undefined;
}
