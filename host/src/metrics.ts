/**
 * Prometheus metrics (prom-client) on the host's own registry: requests by
 * route and status, their duration, the admission queue, and receipt outcomes.
 * Labels are fixed routes and codes, never anything a client sent.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Admission } from './service/admission.js';
import type { ReceiptOutcome } from './service/relay.js';

export function createMetrics(admission: Admission) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'veritee_host_' });
  const requests = new Counter({
    name: 'veritee_host_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'veritee_host_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const receipts = new Counter({
    name: 'veritee_host_receipts_total',
    help: 'Receipts requested from the verifier, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'veritee_host_in_flight',
    help: 'Requests being relayed to the enclave now',
    registers: [registry],
    collect() {
      this.set(admission.inFlight());
    },
  });
  new Gauge({
    name: 'veritee_host_queued',
    help: 'Requests waiting for a slot',
    registers: [registry],
    collect() {
      this.set(admission.queued());
    },
  });
  return {
    registry,
    observe(route: string, status: number, seconds: number): void {
      requests.inc({ route, status: String(status) });
      duration.observe({ route }, seconds);
    },
    receipt(outcome: ReceiptOutcome): void {
      receipts.inc({ outcome });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
