/**
 * Checks a receipt the way a relying party would, against the verifier the
 * client was given (never one the receipt or the host names): issued by it,
 * signed by one of its pinned keys while that key was current, included in its
 * current signed checkpoint, and with claims that name exactly the checked
 * answer (model, commitment, output, nonce, key, evidence).
 */
import { toHex } from '@veritee/attestations';
import {
  verifyReceipt,
  type ReceiptCheck,
  type VerifierIdentity,
} from '@veritee/attestations/receipt';
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
}): Promise<ReceiptCheck> {
  const { receipt, answer, http } = input;
  if (receipt === undefined)
    throw new Refused(
      'CLIENT_RECEIPT_MISSING',
      `the host attached no receipt (${input.receiptError ?? 'no reason given'})`,
    );
  const base = input.verifier.issuer;
  const checkpoint = await http.getJson(`${base}/v1/log/checkpoint`);
  const size = field(checkpoint, 'size');
  const signed = field(checkpoint, 'checkpoint');
  if (typeof size !== 'number' || typeof signed !== 'string' || size <= receipt.logIndex)
    throw new Refused(
      'CLIENT_RECEIPT_MISMATCH',
      `the verifier's checkpoint does not cover log index ${receipt.logIndex}`,
    );
  const proof = await http.getJson(
    `${base}/v1/log/proofs/inclusion?index=${receipt.logIndex}&size=${size}`,
  );
  const path = field(proof, 'path');
  const check = await verifyReceipt({
    receipt: receipt.jws,
    verifier: input.verifier,
    checkpoint: signed,
    inclusionPath: Array.isArray(path) ? path.map(String) : [],
    at: input.at,
    expect: { allowSimulated: input.allowSimulated },
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
