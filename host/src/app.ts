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
import { hostOpenApi } from './openapi.js';
import {
  OHTTP_KEYS_TYPE,
  OHTTP_REQUEST_TYPE,
  OHTTP_RESPONSE_TYPE,
  parseHostAnswer,
} from '@veritee/attestations/wire';

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
    openapi: hostOpenApi(),
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
      if (!(request.headers['content-type'] ?? '').startsWith(OHTTP_REQUEST_TYPE))
        throw new RequestError(
          415,
          'REQUEST_MEDIA_TYPE_UNSUPPORTED',
          `send the request as Oblivious HTTP, ${OHTTP_REQUEST_TYPE}`,
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
      // Veritee clients ask for JSON by name; anything else is an Oblivious HTTP client.
      const wantsJson = (request.headers.accept ?? '')
        .split(',')
        .some((type) => type.split(';')[0]?.trim() === 'application/json');
      if (wantsJson) {
        response.json(answer);
        return;
      }
      // An Oblivious HTTP client that knows nothing of Veritee gets the
      // encapsulated response as RFC 9458 has it (the evidence and binding are
      // inside it), and the receipt in headers.
      const relayed = parseHostAnswer(answer);
      if (relayed.receipt !== undefined)
        response
          .set('veritee-receipt-id', relayed.receipt.id)
          .set('veritee-receipt', relayed.receipt.jws);
      if (relayed.receiptError !== undefined)
        response.set('veritee-receipt-error', relayed.receiptError);
      response
        .status(200)
        .set('cache-control', 'private, no-store')
        .type(OHTTP_RESPONSE_TYPE)
        .send(Buffer.from(relayed.answer.sealed));
    },
  );

  app.get(
    '/v1/ohttp-keys',
    route('/v1/ohttp-keys'),
    async (_request: Request, response: Response) => {
      const keys = await deps.admission.run(() => deps.relay.ohttpKeys(requestIdOf(response)));
      response.set('cache-control', 'no-store').type(OHTTP_KEYS_TYPE).send(Buffer.from(keys));
    },
  );

  finishServiceApp(app, skeleton);
  return app;
}
