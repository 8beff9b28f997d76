/**
 * The enclave's metrics on the skeleton's registry: requests by route, the
 * seconds each request spent in the model, and per quote how many requests it
 * covers and the seconds the hardware took.
 * Nothing about a prompt or output is ever a label.
 */
import { Histogram } from 'prom-client';
import { createServiceMetrics, LATENCY_BUCKETS } from '@veritee/service';

export function createEnclaveMetrics() {
  const metrics = createServiceMetrics('enclave');
  const { registry, prefix } = metrics;
  const batchSize = new Histogram({
    name: `${prefix}batch_size`,
    help: 'Requests answered by one quote',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const inference = new Histogram({
    name: `${prefix}inference_duration_seconds`,
    help: 'Time the model took for one request',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const quote = new Histogram({
    name: `${prefix}quote_duration_seconds`,
    help: 'Time the TEE took to produce one quote',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    ...metrics,
    batch(observed: { size: number; quoteSeconds: number }): void {
      batchSize.observe(observed.size);
      quote.observe(observed.quoteSeconds);
    },
    model(observed: { seconds: number }): void {
      inference.observe(observed.seconds);
    },
  };
}

export type EnclaveMetrics = ReturnType<typeof createEnclaveMetrics>;
