/**
 * `@veritee/service`: the one skeleton the enclave, host and verifier share:
 * settings, problem+json by error class, structured logs through an
 * allow-list, request ids passed along, metrics. `/express` adapts it to the
 * host's and verifier's express apps; `/fetch` is the one bounded HTTP client.
 */
export {
  parseListen,
  tcpListen,
  veriteeHome,
  parseLimits,
  limitSettings,
  type Listen,
} from './settings.js';
export { problemOf, problemBody, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';
export { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
export {
  createLogger,
  silentLogger,
  LOG_FIELDS,
  type Logger,
  type LogFields,
  type ServiceName,
} from './logger.js';
export { createServiceMetrics, LATENCY_BUCKETS, type ServiceMetrics } from './metrics.js';
export { recordRequest, type AnsweredRequest } from './request-log.js';
export { readBoundedBody } from './body.js';
export {
  createAdmission,
  createBoundedServer,
  Busy,
  DEFAULT_SERVER_LIMITS,
  type Admission,
  type ServerLimits,
} from './admission.js';
export { sendPlain, servePlain } from './plain.js';
export {
  openApiDocument,
  openApiPath,
  SKELETON_PATHS,
  type Operation,
  type Parameter,
} from './openapi.js';
