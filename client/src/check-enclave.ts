/**
 * Decides whether an enclave may receive a prompt: its standing evidence must
 * verify to a trusted root, pass the evidence policy, vouch (through its report
 * data) for exactly the model hash, enclave key and issue time it names, run an
 * allowed model, and be fresh.
 */
import { bytesEqual, toHex } from '@veritee/attestations';
import { appraise, type Accepted, type AppraisalMemo } from '@veritee/attestations/evidence';
import { MAX_CLOCK_SKEW_MS } from '@veritee/attestations/policy';
import { identityDigest, parseEnclaveEvidence } from '@veritee/attestations/wire';
import { DEFAULT_MAX_EVIDENCE_AGE_SECONDS, type ClientOptions } from './options.js';
import { Refused } from './refused.js';

/** An enclave whose evidence the client accepted. */
export interface AttestedEnclave {
  readonly tee: 'sev-snp' | 'nitro';
  readonly simulated: boolean;
  readonly modelHash: Uint8Array;
  readonly enclaveKey: Uint8Array;
  readonly issuedAt: Date;
  readonly verdict: Accepted;
}

/**
 * Appraises evidence under the client's policy; refuses with every code when
 * it does not pass. With a memo, a quote seen before (answers of one batch
 * share it) is not parsed and chained again; the policy is evaluated anew.
 */
export async function appraiseForClient(
  evidence: Uint8Array,
  options: Pick<ClientOptions, 'policy' | 'trust'>,
  at: Date,
  memo?: AppraisalMemo,
): Promise<Accepted> {
  const verdict = await appraise(
    { evidence },
    {
      at,
      policy: options.policy.evidence,
      trust: options.trust,
      allowSimulated: options.policy.allowSimulated === true,
      memo,
    },
  );
  if (verdict.verdict !== 'accept')
    throw new Refused(
      'CLIENT_EVIDENCE_REJECTED',
      `the enclave's evidence was rejected: ${verdict.codes.join(', ')}`,
      ['CLIENT_EVIDENCE_REJECTED', ...verdict.codes],
    );
  return verdict;
}

/**
 * @throws Refused CLIENT_SIMULATED_REFUSED, CLIENT_EVIDENCE_REJECTED, CLIENT_BINDING_MISMATCH,
 *   CLIENT_MODEL_UNEXPECTED, CLIENT_EVIDENCE_STALE
 * @throws EvidenceError ANSWER_MALFORMED
 */
export async function checkEnclave(
  document: unknown,
  options: Pick<ClientOptions, 'policy' | 'trust'>,
  at: Date,
): Promise<AttestedEnclave> {
  const standing = parseEnclaveEvidence(document);
  if (standing.simulated && options.policy.allowSimulated !== true)
    throw new Refused(
      'CLIENT_SIMULATED_REFUSED',
      'the enclave runs on simulated hardware and the policy does not allow it',
    );
  const verdict = await appraiseForClient(standing.evidence, options, at);
  if (verdict.format !== standing.tee || verdict.simulated !== standing.simulated)
    throw new Refused(
      'CLIENT_BINDING_MISMATCH',
      `the enclave says ${standing.tee}${standing.simulated ? ' (simulated)' : ''} but its evidence is ${verdict.format}${verdict.simulated ? ' (simulated)' : ''}`,
    );
  const { reportData } = verdict.claims;
  const expected = identityDigest({
    modelHash: standing.modelHash,
    enclaveKey: standing.enclaveKey,
    issuedAt: standing.issuedAt,
  });
  if (reportData === undefined || !bytesEqual(reportData, expected))
    throw new Refused(
      'CLIENT_BINDING_MISMATCH',
      "the evidence's report data does not vouch for the model hash, key and time the enclave names",
    );
  const modelHash = toHex(standing.modelHash);
  if (!options.policy.models.includes(modelHash))
    throw new Refused(
      'CLIENT_MODEL_UNEXPECTED',
      `the enclave runs model ${modelHash}, which the policy does not list`,
    );
  const ageMs = at.getTime() - standing.issuedAt.getTime();
  const maxAgeMs =
    (options.policy.maxEvidenceAgeSeconds ?? DEFAULT_MAX_EVIDENCE_AGE_SECONDS) * 1000;
  if (ageMs > maxAgeMs || ageMs < -MAX_CLOCK_SKEW_MS)
    throw new Refused(
      'CLIENT_EVIDENCE_STALE',
      `the evidence was issued at ${standing.issuedAt.toISOString()}, ${Math.round(ageMs / 1000)} s before now; at most ${maxAgeMs / 1000} s is accepted`,
    );
  return {
    tee: standing.tee,
    simulated: standing.simulated,
    modelHash: standing.modelHash,
    enclaveKey: standing.enclaveKey,
    issuedAt: standing.issuedAt,
    verdict,
  };
}
