/**
 * A worker thread of the appraisal pool: builds its trust store once from
 * workerData, then appraises each task it is given. Verdicts are plain data,
 * so they cross back to the main thread as they are.
 */
import { workerData } from 'node:worker_threads';
import { appraise, createAppraisalMemo, type Appraisal } from '@veritee/attestations/evidence';
import { type Policy } from '@veritee/attestations/policy';
import type { Collateral } from './collateral.js';
import { trustStoreOf, type WorkerTrust } from './worker-trust.js';

export type { WorkerTrust };

export interface AppraisalTask {
  readonly evidence: Uint8Array;
  /** The time of verification, ms since the epoch. */
  readonly at: number;
  readonly policy: Policy;
  readonly collateral?: Collateral;
}

const settings = workerData as WorkerTrust;
const trust = await trustStoreOf(settings);
// Each worker remembers what it verified, as the inline appraiser does.
const memo = createAppraisalMemo();

export default function appraiseTask(task: AppraisalTask): Promise<Appraisal> {
  return appraise(
    {
      evidence: task.evidence,
      endorsement: task.collateral?.endorsement,
      crls: task.collateral?.crls,
    },
    {
      at: new Date(task.at),
      policy: task.policy,
      trust,
      allowSimulated: settings.allowSimulated,
      memo,
    },
  );
}
