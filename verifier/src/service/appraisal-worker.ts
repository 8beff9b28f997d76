/**
 * A worker thread of the appraisal pool: builds its trust store once from
 * workerData, then appraises each task it is given. Verdicts are plain data,
 * so they cross back to the main thread as they are.
 */
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import {
  appraise,
  defaultTrustStore,
  mergeTrustStores,
  type Appraisal,
} from '@veritee/attestations/evidence';
import { type Policy } from '@veritee/attestations/policy';
import { devTrustStore, parseDevPki } from '@veritee/attestations/sim';
import type { Collateral } from './collateral.js';

export interface WorkerTrust {
  /** Accept simulated evidence chaining to the dev PKI at `devPkiPath`. */
  readonly allowSimulated: boolean;
  readonly devPkiPath?: string | undefined;
}

export interface AppraisalTask {
  readonly evidence: Uint8Array;
  /** The time of verification, ms since the epoch. */
  readonly at: number;
  readonly policy: Policy;
  readonly collateral?: Collateral;
}

const settings = workerData as WorkerTrust;
const trust =
  settings.allowSimulated && settings.devPkiPath !== undefined
    ? mergeTrustStores(
        defaultTrustStore(),
        devTrustStore(await parseDevPki(readFileSync(settings.devPkiPath, 'utf8'))),
      )
    : defaultTrustStore();

export default function appraiseTask(task: AppraisalTask): Promise<Appraisal> {
  return appraise(
    {
      evidence: task.evidence,
      endorsement: task.collateral?.endorsement,
      crls: task.collateral?.crls,
    },
    { at: new Date(task.at), policy: task.policy, trust, allowSimulated: settings.allowSimulated },
  );
}
