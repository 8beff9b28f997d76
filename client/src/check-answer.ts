/**
 * Checks an answer before anything of it is returned: the encapsulated
 * response opens with this request's HPKE context (only the enclave that
 * opened the prompt could have sealed it) and holds the same evidence and
 * binding the relay showed, the binding names this model, key, nonce, input
 * and output, and the quote verifies and vouches for that binding (directly
 * or through its batch's Merkle root).
 */
import { bytesEqual } from '@veritee/attestations';
import { type Accepted, type AppraisalMemo } from '@veritee/attestations/evidence';
import {
  committedInput,
  type InferenceRequest,
  type InferenceResult,
} from '@veritee/attestations/seal';
import {
  bindingDigest,
  commitInput,
  inclusionToJson,
  hashOutput,
  isBoundBy,
  type BatchInclusion,
  type Binding,
  type EnclaveAnswer,
} from '@veritee/attestations/wire';
import { appraiseForClient, type AttestedEnclave } from './check-enclave.js';
import type { ClientOptions } from './options.js';
import { Refused } from './refused.js';

export interface CheckedAnswer {
  readonly output: Uint8Array;
  readonly binding: Binding;
  readonly inclusion?: BatchInclusion | undefined;
  readonly evidence: Uint8Array;
  readonly verdict: Accepted;
}

const inclusionText = (inclusion: BatchInclusion | undefined) =>
  JSON.stringify(inclusion === undefined ? null : inclusionToJson(inclusion));

function mismatch(field: string): never {
  throw new Refused(
    'CLIENT_BINDING_MISMATCH',
    `the answer's binding has another ${field} than this request and enclave`,
  );
}

/**
 * @throws ChainError OHTTP_OPEN_FAILED when the response was altered or not meant for this request
 * @throws Refused CLIENT_BINDING_MISMATCH, CLIENT_EVIDENCE_REJECTED
 */
export async function checkAnswer(input: {
  answer: EnclaveAnswer;
  request: InferenceRequest;
  openResult: (encapsulated: Uint8Array) => InferenceResult;
  enclave: AttestedEnclave;
  options: Pick<ClientOptions, 'policy' | 'trust'>;
  at: Date;
  /** The client's remembered verifications. */
  memo?: AppraisalMemo;
}): Promise<CheckedAnswer> {
  const { answer, request, enclave } = input;
  const sealed = input.openResult(answer.sealed);
  // What the relay showed (and had a receipt issued for) is what the enclave sealed.
  if (
    !bytesEqual(sealed.evidence, answer.evidence) ||
    !bytesEqual(bindingDigest(sealed.binding), bindingDigest(answer.binding)) ||
    inclusionText(sealed.inclusion) !== inclusionText(answer.inclusion)
  )
    throw new Refused(
      'CLIENT_BINDING_MISMATCH',
      'the relayed evidence or binding differs from what the enclave sealed',
    );
  const { output } = sealed;
  const { binding } = answer;
  if (!bytesEqual(binding.modelHash, enclave.modelHash)) mismatch('model hash');
  if (!bytesEqual(binding.enclaveKey, enclave.enclaveKey)) mismatch('enclave key');
  if (!bytesEqual(binding.nonce, request.nonce)) mismatch('nonce');
  if (!bytesEqual(binding.inputCommitment, commitInput(request.salt, committedInput(request))))
    mismatch('input commitment');
  if (!bytesEqual(binding.outputHash, hashOutput(output))) mismatch('output hash');
  const verdict = await appraiseForClient(answer.evidence, input.options, input.at, input.memo);
  if (verdict.format !== enclave.tee || verdict.simulated !== enclave.simulated)
    throw new Refused(
      'CLIENT_BINDING_MISMATCH',
      "the answer's quote comes from another kind of TEE than the attested enclave",
    );
  const { reportData } = verdict.claims;
  if (reportData === undefined || !isBoundBy(reportData, binding, answer.inclusion))
    throw new Refused(
      'CLIENT_BINDING_MISMATCH',
      "the answer's quote does not vouch for its binding",
    );
  return { output, binding, inclusion: answer.inclusion, evidence: answer.evidence, verdict };
}
