/**
 * The verifier's HTTP API (express, on the service skeleton): receipts,
 * attestation results, the log's checkpoint and proofs, the JWKS, and the
 * skeleton's health, readiness and metrics. Errors are RFC 9457 problem+json.
 */
import express, { type Request, type Response } from 'express';
import { fromHex, RequestError, toHex } from '@veritee/attestations';
import type { Admission, Logger } from '@veritee/service';
import { createServiceApp, finishServiceApp, route } from '@veritee/service/express';
import {
  CHECKPOINT_HEADER_TYPE,
  CHECKPOINT_TYPE,
  earAppraisal,
  parseReferenceValue,
} from '@veritee/attestations/receipt';
import type { ReceiptLog } from './log/receipt-log.js';
import type { Signer } from './signing/signer.js';
import type { ReceiptService } from './service/receipts.js';
import type { VerifierMetrics } from './metrics.js';
import type { KdsSource } from '@veritee/kds';
import { collateralRoutes } from './routes/collateral.js';
import { tileRoutes } from './routes/tiles.js';
import { proofRoutes } from './routes/proofs.js';
import { base64Field, isOneOf, receiptRoutes, sha256 } from './routes/receipts.js';
import { logBrowseRoutes } from './routes/log-browse.js';
import { webRoutes } from './routes/web.js';
import { verifierOpenApi } from './openapi.js';
import type { Checkpoints } from './log/checkpoints.js';
import type { AttestationResults } from './service/attestation-results.js';
import type { PolicyRegistry } from './service/policy-registry.js';
import type { KeyBroker } from './service/key-broker.js';

export interface AppDeps {
  /** The SEV-SNP key broker; unset: POST /v1/keys/release is off. */
  readonly broker?: KeyBroker | undefined;
  /** Reference values and policy versions; unset: the policy is fixed and there is no admin API. */
  readonly registry?: PolicyRegistry | undefined;
  /** The admin API's bearer token; unset: the admin API is off. */
  readonly adminToken?: string | undefined;
  readonly receipts: ReceiptService;
  readonly results: AttestationResults;
  readonly log: ReceiptLog;
  readonly signer: Signer;
  readonly issuer: string;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: VerifierMetrics;
  /** Serves GET /v1/collateral; unset: no collateral is served. */
  readonly collateral?: KdsSource | undefined;
  /** Hosts' token digests (SHA-256, hex) that may have receipts issued, or `open`. */
  readonly receiptTokens: readonly string[] | 'open';
  /** What bounds the CPU-heavy routes: past it, 429 VERIFIER_BUSY with Retry-After. */
  readonly admission: Admission;
  /** The log's signed-note checkpoints (C2SP), current and published. */
  readonly checkpoints: Checkpoints;
  /** The witnesses' cosignature keys (vkeys), as GET /v1/log names them. */
  readonly witnesses: readonly string[];
}

/** Largest JSON body a route reads: evidence with its certificates is 5-20 KiB. */
/** Largest request body the verifier reads. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Compares bearer tokens in constant time (through their digests, so lengths leak nothing). */
function isAuthorized(header: string | undefined, token: string): boolean {
  return isOneOf(header, [sha256(token)]);
}

export function createApp(deps: AppDeps) {
  const skeleton = {
    service: 'verifier',
    logger: deps.logger,
    metrics: deps.metrics,
    maxBodyBytes: MAX_BODY_BYTES,
    openapi: verifierOpenApi(),
    readiness: async () => {
      // Ready when the log answers (every route but the JWKS needs it) and a key
      // can sign. The policy is loaded before the app exists (main.ts answers
      // VERIFIER_STARTING until then).
      const log = await deps.log.size().then(
        () => true,
        () => false,
      );
      const keys = deps.signer.jwks().keys.length > 0;
      return { ready: log && keys, details: { log, keys } };
    },
  } as const;
  const app = createServiceApp(skeleton);
  // Before the JSON parser: the handler reads its own body, as on the verifier's plain path.
  const receipts = receiptRoutes({ ...deps, maxBodyBytes: MAX_BODY_BYTES });
  app.post('/v1/receipts', route('/v1/receipts'), (request: Request, response: Response) =>
    receipts.one(request, response),
  );
  app.post(
    '/v1/receipts/batch',
    route('/v1/receipts/batch'),
    (request: Request, response: Response) => receipts.batch(request, response),
  );
  app.use(express.json({ limit: MAX_BODY_BYTES }));

  app.post('/v1/verify', route('/v1/verify'), async (request: Request, response: Response) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const evidence = base64Field(body['evidence'], 'evidence');
    const nonce = body['nonce'];
    if (
      nonce !== undefined &&
      (typeof nonce !== 'string' || !/^(?:[0-9a-f]{2}){8,64}$/.test(nonce))
    )
      throw new RequestError(
        400,
        'REQUEST_FIELD_INVALID',
        'nonce must be 8 to 64 bytes of lower-case hex (EAT eat_nonce)',
      );
    const { claims, jwt } = await deps.admission.run(() => deps.results.issue(evidence, nonce));
    const appraisal = earAppraisal(claims);
    response.json({ status: appraisal['ear.status'], codes: appraisal.veritee.codes, result: jwt });
  });

  app.get(
    '/v1/receipts/:id',
    route('/v1/receipts/{id}'),
    async (request: Request, response: Response) => {
      const receipt = await deps.log.receipt(String(request.params['id']));
      if (receipt === undefined)
        throw new RequestError(404, 'RECEIPT_NOT_FOUND', 'no receipt with this id');
      response.json({ id: request.params['id'], receipt });
    },
  );

  app.get(
    '/v1/log/checkpoint',
    route('/v1/log/checkpoint'),
    async (_request: Request, response: Response) => {
      // One size for both forms: `note` is the C2SP checkpoint, `checkpoint` the JWS of earlier versions.
      const note = await deps.checkpoints.current();
      const checkpoint = await deps.signer.sign(
        {
          typ: CHECKPOINT_TYPE,
          iss: deps.issuer,
          iat: Math.floor(deps.clock().getTime() / 1000),
          size: note.size,
          root: toHex(note.rootHash),
        },
        CHECKPOINT_HEADER_TYPE,
      );
      response.json({ size: note.size, checkpoint, note: note.note });
    },
  );

  logBrowseRoutes(app, deps.log);
  webRoutes(app);

  // The same handlers the verifier's server answers without express.
  for (const [path, handle] of proofRoutes(deps.log))
    app.get(path, route(path), (request: Request, response: Response) =>
      handle(new URL(request.originalUrl, 'http://verifier').searchParams, response),
    );

  app.get('/v1/policies', route('/v1/policies'), (_request: Request, response: Response) => {
    if (deps.registry === undefined)
      throw new RequestError(404, 'REQUEST_NOT_FOUND', 'this verifier has no policy registry');
    const { id, version, policy } = deps.registry.current();
    response.json({
      id,
      version,
      policy,
      changes: deps.registry.history().map(({ claims, statement }) => ({
        version: claims.policy.version,
        action: claims.action,
        reference: claims.reference,
        ...(claims.note === undefined ? {} : { note: claims.note }),
        issuedAt: new Date(claims.iat * 1000).toISOString(),
        log: claims.log,
        statement,
      })),
    });
  });

  app.post(
    '/v1/admin/reference-values',
    route('/v1/admin/reference-values'),
    async (request: Request, response: Response) => {
      if (deps.registry === undefined || deps.adminToken === undefined)
        throw new RequestError(
          404,
          'REQUEST_NOT_FOUND',
          'the admin API is off (set VERITEE_ADMIN_TOKEN)',
        );
      if (!isAuthorized(request.headers.authorization, deps.adminToken))
        throw new RequestError(401, 'ADMIN_UNAUTHORIZED', 'a valid admin bearer token is required');
      const body = (request.body ?? {}) as Record<string, unknown>;
      const action = body['action'];
      if (action !== 'register' && action !== 'retire')
        throw new RequestError(400, 'REQUEST_FIELD_INVALID', 'action must be register or retire');
      const note = body['note'];
      if (note !== undefined && (typeof note !== 'string' || note.length > 200))
        throw new RequestError(
          400,
          'REQUEST_FIELD_INVALID',
          'note must be text of at most 200 characters',
        );
      let reference;
      try {
        reference = parseReferenceValue(body['reference']);
      } catch (error) {
        throw new RequestError(400, 'REQUEST_FIELD_INVALID', (error as Error).message);
      }
      const changed = await deps.registry.change(action, reference, note);
      response.status(201).json({
        version: changed.version,
        log: { index: changed.index },
        statement: changed.statement,
      });
    },
  );

  const broker = (): KeyBroker => {
    if (deps.broker === undefined)
      throw new RequestError(
        404,
        'REQUEST_NOT_FOUND',
        'this verifier releases no keys (set VERITEE_KEY_BROKER=1)',
      );
    return deps.broker;
  };

  app.post(
    '/v1/keys/challenge',
    route('/v1/keys/challenge'),
    async (_request: Request, response: Response) => {
      response.set('cache-control', 'no-store').json(await broker().challenge());
    },
  );

  app.post(
    '/v1/keys/release',
    route('/v1/keys/release'),
    async (request: Request, response: Response) => {
      const keyBroker = broker();
      const body = (request.body ?? {}) as Record<string, unknown>;
      const hex = (name: string) => {
        const value = body[name];
        if (typeof value !== 'string' || !/^(?:[0-9a-f]{2}){1,64}$/.test(value))
          throw new RequestError(400, 'REQUEST_FIELD_INVALID', `${name} must be lower-case hex`);
        return fromHex(value) ?? new Uint8Array(0);
      };
      const challenge = body['challenge'];
      if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 2048)
        throw new RequestError(
          400,
          'REQUEST_FIELD_INVALID',
          'challenge must be the string POST /v1/keys/challenge returned',
        );
      const released = await deps.admission.run(() =>
        keyBroker.release(
          base64Field(body['evidence'], 'evidence'),
          {
            enclaveKey: hex('enclaveKey'),
            nonce: hex('nonce'),
            encryptedKey: base64Field(body['encryptedKey'], 'encryptedKey'),
          },
          challenge,
        ),
      );
      response.json({
        sealedKey: Buffer.from(released.sealedKey).toString('base64'),
        log: { index: released.index },
        statement: released.statement,
      });
    },
  );

  app.get(
    '/.well-known/jwks.json',
    route('/.well-known/jwks.json'),
    (_request, response) => void response.json(deps.signer.jwks()),
  );

  collateralRoutes(app, deps.collateral, deps.clock);
  tileRoutes(app, { log: deps.log, checkpoints: deps.checkpoints, witnesses: deps.witnesses });

  finishServiceApp(app, skeleton);
  return app;
}
