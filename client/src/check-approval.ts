/**
 * Which code may receive a prompt: by default, what the verifier's log
 * approves. The approvals are read from the verifier the client pinned, each
 * a signed policy change included in its log (verifyApprovals), and the
 * enclave's measurement (and model, where tied) must be among them. No prompt
 * is sealed to an enclave that is not.
 */
import { toHex } from '@veritee/attestations';
import {
  approvalCount,
  approvesEnclave,
  verifyApprovals,
  type Approvals,
  type VerifierIdentity,
} from '@veritee/attestations/receipt';
import type { AttestedEnclave } from './check-enclave.js';
import type { Http } from './http.js';
import type { ClientPolicy } from './options.js';
import { Refused } from './refused.js';
import { field } from './json-field.js';

/** Most policy changes read: years of deployments. */
const MAX_CHANGES = 10_000;

/**
 * The verifier's approvals, each change proven in its log.
 * @throws ChainError, EvidenceError from verifyApprovals; Refused CLIENT_APPROVALS_UNAVAILABLE
 */
export async function fetchApprovals(
  http: Http,
  verifier: VerifierIdentity,
  at: Date,
): Promise<Approvals> {
  const base = verifier.issuer;
  const policies = await http.getJson(`${base}/v1/policies`);
  const policyId = field(policies, 'id');
  const changes = field(policies, 'changes');
  if (typeof policyId !== 'string' || !Array.isArray(changes) || changes.length > MAX_CHANGES)
    throw new Refused(
      'CLIENT_APPROVALS_UNAVAILABLE',
      'the verifier did not list its policy changes',
    );
  const head = await http.getJson(`${base}/v1/log/checkpoint`);
  const size = field(head, 'size');
  const checkpoint = field(head, 'checkpoint');
  if (typeof size !== 'number' || typeof checkpoint !== 'string')
    throw new Refused('CLIENT_APPROVALS_UNAVAILABLE', 'the verifier gave no checkpoint');
  const proven = await Promise.all(
    changes.map(async (change: unknown) => {
      const index = field(field(change, 'log'), 'index');
      const statement = field(change, 'statement');
      if (typeof index !== 'number' || typeof statement !== 'string' || index >= size)
        throw new Refused(
          'CLIENT_APPROVALS_UNAVAILABLE',
          'a policy change is not in the checkpoint',
        );
      const path = field(
        await http.getJson(`${base}/v1/log/proofs/inclusion?index=${index}&size=${size}`),
        'path',
      );
      return { statement, inclusionPath: Array.isArray(path) ? path.map(String) : [] };
    }),
  );
  return (await verifyApprovals({ policyId, changes: proven, verifier, checkpoint, at })).approvals;
}

/**
 * What vouched for the enclave's code, for the result; refuses one nothing vouches for.
 * @throws Refused CLIENT_MEASUREMENT_NOT_APPROVED, CLIENT_MODEL_NOT_APPROVED
 */
export function checkApproval(
  enclave: AttestedEnclave,
  policy: ClientPolicy,
  approvals: Approvals | undefined,
): string {
  const { claims } = enclave.verdict;
  const measurement = toHex(claims.measurement);
  const wanted = policy.measurements ?? 'approved';
  if (wanted === 'any') return 'any measurement (approval not checked)';
  if (wanted !== 'approved') {
    if (!wanted.includes(measurement))
      throw new Refused(
        'CLIENT_MEASUREMENT_NOT_APPROVED',
        `the enclave runs measurement ${measurement}, which the client's list does not hold`,
      );
    return 'listed by the client';
  }
  const found = approvals ?? {};
  // A simulated development setup with nothing registered yet is the one open case.
  if (approvalCount(found) === 0 && enclave.simulated && policy.allowSimulated === true)
    return 'none registered (simulated development setup)';
  const pcrs =
    claims.pcrs === undefined
      ? undefined
      : new Map([...claims.pcrs].map(([index, value]) => [index, toHex(value)]));
  const decision = approvesEnclave(
    found,
    { format: claims.format, measurement, ...(pcrs === undefined ? {} : { pcrs }) },
    toHex(enclave.modelHash),
  );
  if (decision === 'measurement-unknown')
    throw new Refused(
      'CLIENT_MEASUREMENT_NOT_APPROVED',
      `the enclave runs measurement ${measurement}, which the verifier's log does not approve`,
    );
  if (decision === 'model-not-approved')
    throw new Refused(
      'CLIENT_MODEL_NOT_APPROVED',
      `measurement ${measurement} is approved, but not with model ${toHex(enclave.modelHash)}`,
    );
  return 'approved in the verifier log';
}
