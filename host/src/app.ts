/**
 * The host's public API (express, on the service skeleton): the enclave's
 * attestation, sealed inference, and the skeleton's health, readiness and
 * metrics. Bodies are opaque bytes with a size limit; errors are RFC 9457
 * problem+json with a stable code.
 */
import type { NextFunction, Request, Response } from 'express';
import { RequestError } from '@veritee/attestations';
import { readBoundedBody, type Admission, type Logger } from '@veritee/service';
import {
  createServiceApp,
  finishServiceApp,
  requestIdOf,
  route,
  type SkeletonDeps,
} from '@veritee/service/express';
import type { Relay } from './service/relay.js';
import type { Metrics } from './metrics.js';

export interface AppDeps {
  readonly relay: Relay;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  /** Every relayed request takes a slot first (before its body is read); past them, 429 HOST_BUSY. */
  readonly admission: Admission;
}

export function createApp(deps: AppDeps) {
  const skeleton: SkeletonDeps = {
    service: 'host',
    logger: deps.logger,
    metrics: deps.metrics,
    maxBodyBytes: deps.maxBodyBytes,
    readiness: async () => {
      const ready = await deps.relay.readiness();
      return { ready: ready.enclave && ready.verifier !== false, details: ready };
    },
  };
  const app = createServiceApp(skeleton);

  app.get(
    '/v1/attestation',
    route('/v1/attestation'),
    async (_request: Request, response: Response) => {
      response.json(await deps.admission.run(() => deps.relay.attestation(requestIdOf(response))));
    },
  );

  app.post(
    '/v1/infer',
    route('/v1/infer'),
    (request: Request, _response: Response, next: NextFunction) => {
      if (!(request.headers['content-type'] ?? '').startsWith('application/octet-stream'))
        throw new RequestError(
          415,
          'REQUEST_MEDIA_TYPE_UNSUPPORTED',
          'send the sealed request as application/octet-stream',
        );
      next();
    },
    async (request: Request, response: Response) => {
      // A slot first, then the body: a refused request costs no read.
      const answer = await deps.admission.run(async () => {
        const body = await readBoundedBody(request, deps.maxBodyBytes);
        if (body.byteLength === 0)
          throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'the sealed request is empty');
        return deps.relay.infer(body, requestIdOf(response));
      });
      response.locals['receipt'] = answer['receipt'] === undefined ? 'none' : 'attached';
      // The request line then says why an answer went out without a receipt.
      if (typeof answer['receiptError'] === 'string')
        response.locals['code'] = answer['receiptError'];
      response.json(answer);
    },
  );

  finishServiceApp(app, skeleton);
  return app;
}
