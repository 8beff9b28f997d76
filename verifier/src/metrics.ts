/**
 * The verifier's metrics on the skeleton's registry: appraisals (latency by
 * verdict, how many run now), group commits (receipts per durable write), the
 * log's size, and receipts, key releases and admin changes by outcome.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { createServiceMetrics, LATENCY_BUCKETS } from '@veritee/service';

export type Outcome = 'accepted' | 'refused' | 'failed';

export function createVerifierMetrics(logSize: () => Promise<number>) {
  const metrics = createServiceMetrics('verifier');
  const { registry, prefix } = metrics;
  const appraisals = new Histogram({
    name: `${prefix}appraisal_duration_seconds`,
    help: 'Time to appraise evidence (parse, chain, policy), by verdict',
    labelNames: ['verdict'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const appraising = new Gauge({
    name: `${prefix}appraisals_in_progress`,
    help: 'Appraisals queued for or running in the worker pool',
    registers: [registry],
  });
  const groupCommits = new Histogram({
    name: `${prefix}group_commit_size`,
    help: 'Log entries made durable by one write',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  new Gauge({
    name: `${prefix}log_size`,
    help: 'Entries in the log',
    registers: [registry],
    async collect() {
      this.set(await logSize().catch(() => NaN));
    },
  });
  const outcomes = (name: string, help: string) =>
    new Counter({
      name: `${prefix}${name}`,
      help,
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  const receipts = outcomes('receipts_total', 'Receipt requests, by outcome');
  const releases = outcomes('key_releases_total', 'Key release requests, by outcome');
  const adminChanges = outcomes('admin_changes_total', 'Reference value changes, by outcome');
  return {
    ...metrics,
    /** Times one appraisal; `work` resolves to its verdict. */
    async appraisal<T extends { verdict: string }>(work: () => Promise<T>): Promise<T> {
      appraising.inc();
      const started = process.hrtime.bigint();
      try {
        const verdict = await work();
        appraisals.observe(
          { verdict: verdict.verdict },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
        return verdict;
      } finally {
        appraising.dec();
      }
    },
    committed: (size: number) => groupCommits.observe(size),
    receipt: (outcome: Outcome) => receipts.inc({ outcome }),
    keyRelease: (outcome: Outcome) => releases.inc({ outcome }),
    adminChange: (outcome: Outcome) => adminChanges.inc({ outcome }),
  };
}

export type VerifierMetrics = ReturnType<typeof createVerifierMetrics>;
