/**
 * Wires the verifier's services to its HTTP API: the policy registry (base
 * policy plus logged reference values), receipts, attestation results. main.ts
 * gives it real stores and keys; tests and benchmarks give it theirs.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RequestError } from '@veritee/attestations';
import {
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  type NoteSigner,
} from '@veritee/attestations/tlog';
import type { Policy } from '@veritee/attestations/policy';
import type { RequestListener } from 'node:http';
import {
  createAdmission,
  servePlain,
  silentLogger,
  type Admission,
  type Logger,
} from '@veritee/service';
import { createVerifierMetrics, type Outcome, type VerifierMetrics } from './metrics.js';
import { createApp, MAX_BODY_BYTES, type AppDeps } from './app.js';
import { receiptRoutes } from './routes/receipts.js';
import type { ReceiptLog } from './log/receipt-log.js';
import { withNodeCache } from './log/node-cache.js';
import { proofRoutes } from './routes/proofs.js';
import type { Appraiser } from './service/appraiser.js';
import { createAttestationResults } from './service/attestation-results.js';
import { createPolicyRegistry } from './service/policy-registry.js';
import { createReceiptService } from './service/receipts.js';
import { createKeyBroker } from './service/key-broker.js';
import { createStatementLog } from './log/statements.js';
import { createCheckpoints } from './log/checkpoints.js';
import { startWitnessing, type Witness } from './log/witnessing.js';
import { resolveCollateral } from './service/collateral.js';
import type { KdsSource } from '@veritee/kds';
import type { Signer } from './signing/signer.js';

export interface VerifierDeps {
  readonly log: ReceiptLog;
  readonly signer: Signer;
  readonly appraiser: Appraiser;
  readonly issuer: string;
  /** The policy from its file: id, first version, rules. */
  readonly basePolicy: { readonly id: string; readonly version: number; readonly policy: Policy };
  /** The admin API's bearer token; unset: no admin API. */
  readonly adminToken?: string | undefined;
  /** Unwraps data keys with KMS; set, the verifier is also the SEV-SNP key broker. */
  readonly unwrap?: ((encryptedKey: Uint8Array) => Promise<Uint8Array>) | undefined;
  readonly clock: () => Date;
  /** Default: logs nothing. */
  readonly logger?: Logger | undefined;
  /** Default: a fresh registry of the verifier's metrics. */
  readonly metrics?: VerifierMetrics | undefined;
  /**
   * Where SEV-SNP collateral comes from (AMD KDS through its caches): VCEKs
   * evidence does not carry, the newest CRLs, and what GET /v1/collateral
   * serves. Unset: only what evidence carries is used, and no collateral is served.
   */
  readonly collateral?: KdsSource | undefined;
  /**
   * Who may have receipts issued: hosts whose bearer token's SHA-256 (hex) is
   * listed, or anyone (`open`). Default `open` (embedding, tests); the service
   * (main.ts) is closed unless configured.
   */
  readonly receiptTokens?: readonly string[] | 'open' | undefined;
  /** Work admitted at once (verify, receipts, key release). Default 64 running, 1024 queued. */
  readonly admission?: Admission | undefined;
  /**
   * The log's Ed25519 note key, named for the log's origin. Default: a key
   * made for this process, named `<issuer host>/log` (embedding, tests).
   */
  readonly noteSigner?: NoteSigner | undefined;
  /** Witnesses asked to cosign each new checkpoint (C2SP tlog-witness). Default none. */
  readonly witnesses?: readonly Witness[] | undefined;
  /** How often a witnessing round runs, in ms. Default 1000. */
  readonly witnessIntervalMs?: number | undefined;
  /** Memory for the log's subtree hashes kept for roots and proofs. Default 64 MiB. */
  readonly nodeCacheBytes?: number | undefined;
}

/** What attestation results name as the verifier's build (`ear.verifier-id`). */
const VERIFIER_BUILD = `veritee-verifier/${
  (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version
}`;

/** Counts each call of `work` by outcome: done, refused (the caller's fault) or failed. */
function counted<A extends unknown[], R>(
  work: (...args: A) => Promise<R>,
  count: (outcome: Outcome) => void,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      const result = await work(...args);
      count('accepted');
      return result;
    } catch (error) {
      count(error instanceof RequestError && error.status < 500 ? 'refused' : 'failed');
      throw error;
    }
  };
}

/** Builds the verifier; its registry has replayed the log's policy changes before this resolves. */
export async function createVerifier(deps: VerifierDeps) {
  const { signer, issuer, clock } = deps;
  const log = withNodeCache(deps.log, { maxBytes: deps.nodeCacheBytes });
  const metrics = deps.metrics ?? createVerifierMetrics(() => log.size());
  const { collateral } = deps;
  const appraiser: Appraiser = {
    ...deps.appraiser,
    appraise: async (evidence, at, policy, given) => {
      const resolved =
        given ??
        (collateral === undefined ? undefined : await resolveCollateral(evidence, collateral));
      return metrics.appraisal(() => deps.appraiser.appraise(evidence, at, policy, resolved));
    },
  };
  const noteSigner =
    deps.noteSigner ??
    noteSignerFromSeed(`${new URL(issuer).host}/log`, NOTE_SIGNATURE_ED25519, randomBytes(32));
  const witnesses = deps.witnesses ?? [];
  const checkpoints = createCheckpoints({
    log,
    signer: noteSigner,
    witnessed: witnesses.length > 0,
  });
  const witnessing =
    witnesses.length === 0
      ? undefined
      : startWitnessing({
          witnesses,
          log,
          checkpoints,
          logger: deps.logger ?? silentLogger,
          intervalMs: deps.witnessIntervalMs ?? 1000,
        });
  const statements = createStatementLog({ log, signer, onCommit: metrics.committed });
  const registry = createPolicyRegistry({
    base: deps.basePolicy,
    log,
    statements,
    issuer,
    clock,
  });
  await registry.refresh();
  const receipts = createReceiptService({
    statements,
    receiptById: (id) => log.receipt(id),
    issuer,
    policy: () => registry.current(),
    allowsModel: (claims, modelHash) => registry.allowsModel(claims, modelHash),
    appraiser,
    clock,
  });
  const results = createAttestationResults({
    appraise: receipts.appraise,
    policy: () => registry.current(),
    signer,
    issuer,
    clock,
    build: VERIFIER_BUILD,
  });
  const broker =
    deps.unwrap === undefined
      ? undefined
      : createKeyBroker({
          appraise: receipts.appraise,
          policy: () => registry.current(),
          unwrap: deps.unwrap,
          statements,
          signer,
          issuer,
          clock,
        });
  const appDeps: AppDeps = {
    broker:
      broker === undefined
        ? undefined
        : {
            ...broker,
            release: counted((...args) => broker.release(...args), metrics.keyRelease),
          },
    receipts: {
      ...receipts,
      issue: counted((...args) => receipts.issue(...args), metrics.receipt),
    },
    results,
    registry: {
      ...registry,
      change: counted((...args) => registry.change(...args), metrics.adminChange),
    },
    logger: deps.logger ?? silentLogger,
    metrics,
    collateral,
    receiptTokens: deps.receiptTokens ?? 'open',
    admission:
      deps.admission ??
      createAdmission({ maxInFlight: 64, maxQueue: 1024, busyCode: 'VERIFIER_BUSY' }),
    adminToken: deps.adminToken,
    log,
    signer,
    issuer,
    clock,
    checkpoints,
    witnesses: witnesses.map((witness) => witness.verifier.vkey),
  };
  const app = createApp(appDeps);
  // The hottest routes skip express: the server hands them straight to their handlers.
  const fast = proofRoutes(log);
  const issue = receiptRoutes({
    receipts: appDeps.receipts,
    admission: appDeps.admission,
    receiptTokens: appDeps.receiptTokens,
    maxBodyBytes: MAX_BODY_BYTES,
    log,
    checkpoints,
  });
  const skeleton = { service: 'verifier', logger: deps.logger ?? silentLogger, metrics } as const;
  const listener: RequestListener = (request, response) => {
    const [path = '', query = ''] = (request.url ?? '').split('?', 2);
    if (request.method === 'POST' && path === '/v1/receipts')
      return void servePlain(skeleton, request, response, path, () => issue.one(request, response));
    if (request.method === 'POST' && path === '/v1/receipts/batch')
      return void servePlain(skeleton, request, response, path, () =>
        issue.batch(request, response),
      );
    const handle = request.method === 'GET' ? fast.get(path) : undefined;
    if (handle === undefined) return void app(request, response);
    servePlain(skeleton, request, response, path, () =>
      handle(new URLSearchParams(query), response),
    );
  };
  /** Reads the log's stored nodes into memory, so the first proofs do not wait on the store. */
  const warmLog = async () => log.warm(await log.size());
  return { app, listener, warmLog, registry, receipts, metrics, checkpoints, witnessing };
}
