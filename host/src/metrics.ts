/**
 * The host's metrics on the skeleton's registry: its admission queue and
 * receipt outcomes, beside the requests every service counts.
 */
import { Counter, Gauge } from 'prom-client';
import { createServiceMetrics } from '@veritee/service';
import type { Admission } from '@veritee/service';
import type { ReceiptOutcome } from './service/relay.js';

export function createMetrics(admission: Admission) {
  const metrics = createServiceMetrics('host');
  const { registry, prefix } = metrics;
  const receipts = new Counter({
    name: `${prefix}receipts_total`,
    help: 'Receipts requested from the verifier, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: `${prefix}in_flight`,
    help: 'Requests being relayed to the enclave now',
    registers: [registry],
    collect() {
      this.set(admission.inFlight());
    },
  });
  new Gauge({
    name: `${prefix}queued`,
    help: 'Requests waiting for a slot',
    registers: [registry],
    collect() {
      this.set(admission.queued());
    },
  });
  return {
    ...metrics,
    receipt(outcome: ReceiptOutcome): void {
      receipts.inc({ outcome });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
