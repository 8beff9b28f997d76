/**
 * The enclave's internal API, on plain node:http (no web framework inside the
 * TCB) and the service skeleton: GET /v1/evidence, POST /v1/infer (sealed bytes
 * in, attested answer out), /livez /healthz /readyz /metrics. Errors are
 * RFC 9457 problem+json with a stable code; the request id the host sent is
 * kept, so one inference can be followed through both logs.
 */
import { RequestError } from '@veritee/attestations';
import {
  enclaveAnswerToJson,
  enclaveEvidenceToJson,
  OHTTP_KEYS_TYPE,
  OHTTP_REQUEST_TYPE,
} from '@veritee/attestations/wire';
import { encodeKeyConfigs, keyConfigOf } from '@veritee/attestations/seal';
import {
  createBoundedServer,
  DEFAULT_SERVER_LIMITS,
  type ServerLimits,
  readBoundedBody,
  sendPlain,
  servePlain,
  type Admission,
  type Logger,
} from '@veritee/service';
import type { AttestedInference } from './service/attested-inference.js';
import type { EvidenceCache } from './service/evidence-cache.js';
import type { EnclaveMetrics } from './metrics.js';

export interface AppDeps {
  readonly inference: AttestedInference;
  readonly evidence: EvidenceCache;
  readonly logger: Logger;
  readonly metrics: EnclaveMetrics;
  readonly maxRequestBytes: number;
  /** Inference requests run at once and queued; past them, 429 ENCLAVE_BUSY. */
  readonly admission: Admission;
  /** Timeouts and connection cap for slow or many clients; default DEFAULT_SERVER_LIMITS. */
  readonly serverLimits?: ServerLimits;
}

const ROUTES = new Set([
  'GET /livez',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /v1/evidence',
  'GET /v1/ohttp-keys',
  'POST /v1/infer',
]);

export function createApp(deps: AppDeps) {
  return createBoundedServer(deps.serverLimits ?? DEFAULT_SERVER_LIMITS, (request, response) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const key = `${request.method ?? ''} ${path}`;
    const route = ROUTES.has(key) ? path : 'unmatched';
    const handle = async () => {
      switch (key) {
        case 'GET /livez':
        case 'GET /healthz':
          return sendPlain(response, 200, JSON.stringify({ status: 'ok' }));
        case 'GET /readyz': {
          // Ready when standing evidence can be served: the TEE answers and the model is loaded.
          const ready = await deps.evidence.current().then(
            () => true,
            () => false,
          );
          return sendPlain(
            response,
            ready ? 200 : 503,
            JSON.stringify({ status: ready ? 'ready' : 'not ready', tee: ready }),
          );
        }
        case 'GET /metrics':
          return sendPlain(
            response,
            200,
            await deps.metrics.registry.metrics(),
            deps.metrics.registry.contentType,
          );
        case 'GET /v1/evidence':
          return sendPlain(
            response,
            200,
            JSON.stringify(enclaveEvidenceToJson(await deps.evidence.current())),
          );
        case 'GET /v1/ohttp-keys': {
          // RFC 9458, section 3: the gateway's key configuration, derived from its attested key.
          const { enclaveKey } = await deps.evidence.current();
          const keys = encodeKeyConfigs([keyConfigOf(enclaveKey)]);
          return sendPlain(response, 200, keys, OHTTP_KEYS_TYPE);
        }
        case 'POST /v1/infer': {
          if (!(request.headers['content-type'] ?? '').startsWith(OHTTP_REQUEST_TYPE)) {
            throw new RequestError(
              415,
              'REQUEST_MEDIA_TYPE_UNSUPPORTED',
              `send the request as Oblivious HTTP, ${OHTTP_REQUEST_TYPE}`,
            );
          }
          // A slot first, then the body: a refused request costs no read.
          const answer = await deps.admission.run(async () =>
            deps.inference.infer(await readBoundedBody(request, deps.maxRequestBytes)),
          );
          return sendPlain(response, 200, JSON.stringify(enclaveAnswerToJson(answer)));
        }
        default:
          throw new RequestError(404, 'REQUEST_NOT_FOUND', 'no such route');
      }
    };
    servePlain({ ...deps, service: 'enclave' }, request, response, route, handle);
  });
}
