/**
 * Appraisal of evidence, the verifier's CPU-bound work (ECDSA P-384, RSA-PSS
 * chains). Inline on the event loop, or in a pool of worker threads (piscina)
 * sized to the machine, so one verifier uses every core and its event loop
 * stays free to answer while quotes are being checked.
 */
import { createHash } from 'node:crypto';
import { Piscina } from 'piscina';
import {
  appraise,
  createAppraisalMemo,
  evidenceSignatures,
  type TrustStore,
  type Appraisal,
} from '@veritee/attestations/evidence';
import { type Policy } from '@veritee/attestations/policy';
import type { AppraisalOutcome, AppraisalTask } from './appraisal-worker.js';
import { workerEntry } from './worker-entry.js';
import { trustStoreOf, type WorkerTrust } from './worker-trust.js';
import type { Collateral } from './collateral.js';

export interface Appraiser {
  /** Appraises evidence with the collateral resolved for it (VCEK, CRLs), if any. */
  appraise(
    evidence: Uint8Array,
    at: Date,
    policy: Policy,
    collateral?: Collateral,
  ): Promise<Appraisal>;
  close(): Promise<void>;
}

/**
 * Appraises on the calling thread, remembering verifications (not verdicts:
 * the policy is evaluated every time) while their certificates and CRLs stay
 * current, so every receipt of one batched quote after the first costs a hash.
 */
export function createInlineAppraiser(options: {
  readonly trust: TrustStore;
  /** Accept simulated evidence (receipts then say so). Default false. */
  readonly allowSimulated: boolean;
}): Appraiser {
  const memo = createAppraisalMemo();
  return {
    appraise: (evidence, at, policy, collateral) =>
      appraise(
        { evidence, endorsement: collateral?.endorsement, crls: collateral?.crls },
        { at, policy, trust: options.trust, allowSimulated: options.allowSimulated, memo },
      ),
    close: () => Promise.resolve(),
  };
}

/** Evidence digests the pooled appraiser has sent to a worker, to know a repeat. */
const MAX_SEEN = 4096;

/**
 * Appraises in `workers` worker threads; each builds its trust store once
 * (the real roots, plus the dev PKI's roots when simulation is allowed).
 * Evidence seen before (every receipt of one batched quote carries the same)
 * is appraised on the calling thread instead, the same way against the same
 * roots: the worker's verdict comes back with the evidence signatures it
 * verified, kept here, and the verification is remembered after the first
 * time, so that costs less than handing the evidence to a worker and back.
 */
export function createPooledAppraiser(options: {
  readonly workers: number;
  readonly trust: WorkerTrust;
}): Appraiser {
  const entry = workerEntry('./appraisal-worker', import.meta.url);
  const pool = new Piscina({
    filename: entry.filename.href,
    minThreads: options.workers,
    maxThreads: options.workers,
    workerData: { ...options.trust, module: entry.module },
    execArgv: process.execArgv,
  });
  let inline: Appraiser | undefined;
  void trustStoreOf(options.trust).then(
    (trust) => {
      inline = createInlineAppraiser({ trust, allowSimulated: options.trust.allowSimulated });
    },
    // Then every appraisal goes to the workers, which report the same failure.
    () => undefined,
  );
  const seen = new Set<string>();
  // Worker appraisals under way, by evidence digest: a repeat waits for its first.
  const underWay = new Map<string, Promise<unknown>>();
  return {
    appraise(evidence, at, policy, collateral) {
      const digest = createHash('sha256').update(evidence).digest('base64');
      const local = inline;
      if (local !== undefined && seen.has(digest)) {
        const here = () => local.appraise(evidence, at, policy, collateral);
        const first = underWay.get(digest);
        return first === undefined ? here() : first.then(here, here);
      }
      if (seen.size >= MAX_SEEN) seen.clear();
      seen.add(digest);
      // The worker is our own code calling appraise(); structured cloning keeps
      // its outcome as it was made, so the cast only restores the type.
      const outcome = pool.run({
        evidence,
        at: at.getTime(),
        policy,
        ...(collateral === undefined ? {} : { collateral }),
      } satisfies AppraisalTask) as Promise<AppraisalOutcome>;
      const appraisal = outcome.then(({ appraisal, signatures }) => {
        for (const [key, verified] of signatures) evidenceSignatures.keep(key, verified);
        return appraisal;
      });
      underWay.set(digest, appraisal);
      const done = () => underWay.delete(digest);
      appraisal.then(done, done);
      return appraisal;
    },
    close: () => pool.destroy(),
  };
}
