export { createApp, type AppDeps } from './app.js';
export { parseConfig, HOST_SETTINGS, type HostConfig } from './config.js';
export { createRelay, type Relay, type ReceiptOutcome } from './service/relay.js';
export { createUpstream, type Upstream } from './service/upstream.js';
export { createMetrics, type Metrics } from './metrics.js';
