/**
 * Prometheus metrics (prom-client) on each service's own registry: the
 * process's defaults and requests by route and status with their duration.
 * Services register their own on `registry`. Labels are fixed routes and
 * codes, never anything a client sent.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ServiceName } from './logger.js';

/** Seconds: from a cached answer (sub-millisecond) to a slow appraisal or model. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

export interface ServiceMetrics {
  readonly registry: Registry;
  /** The metric name prefix, `veritee_<service>_`. */
  readonly prefix: string;
  observeRequest(route: string, status: number, seconds: number): void;
}

export function createServiceMetrics(service: ServiceName): ServiceMetrics {
  const registry = new Registry();
  const prefix = `veritee_${service}_`;
  collectDefaultMetrics({ register: registry, prefix });
  const requests = new Counter({
    name: `${prefix}requests_total`,
    help: 'HTTP requests answered, by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}request_duration_seconds`,
    help: 'Time to answer an HTTP request, by route',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    prefix,
    observeRequest(route, status, seconds) {
      requests.inc({ route, status: String(status) });
      duration.observe({ route }, seconds);
    },
  };
}
