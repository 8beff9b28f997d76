/**
 * A worker thread of the appraisal pool: builds its trust store once from
 * workerData, then appraises each task it is given. Verdicts are plain data,
 * so they cross back to the main thread as they are, with the results of the
 * evidence signatures verified for them: the main thread keeps those, so the
 * next receipts of the same quote, appraised there, verify no signature again.
 */
import { workerData } from 'node:worker_threads';
import {
  appraise,
  createAppraisalMemo,
  evidenceSignatures,
  type Appraisal,
} from '@veritee/attestations/evidence';
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

export interface AppraisalOutcome {
  readonly appraisal: Appraisal;
  /** Evidence signature memo entries made by this appraisal: key, whether it verified. */
  readonly signatures: ReadonlyArray<readonly [string, boolean]>;
}

export default async function appraiseTask(task: AppraisalTask): Promise<AppraisalOutcome> {
  const signatures: Array<[string, boolean]> = [];
  // The pool gives a worker one task at a time, so what is computed meanwhile is this task's.
  const unwatch = evidenceSignatures.watch((key, verified) => signatures.push([key, verified]));
  try {
    const appraisal = await appraise(
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
    return { appraisal, signatures };
  } finally {
    unwatch();
  }
}
