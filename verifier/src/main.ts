/**
 * Starts the verifier: the only module that reads the environment, opens the
 * port and handles signals.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { ConfigError, isVeriteeError, RequestError } from '@veritee/attestations';
import { loadSettings } from '@veritee/attestations/config';
import { parseDevPki } from '@veritee/attestations/sim';
import { VERIFIER_SETTINGS, parseConfig } from './config.js';
import { openSqliteLog } from './log/sqlite-log.js';
import { openPostgresLog } from './log/postgres-log.js';
import { KMSClient } from '@aws-sdk/client-kms';
import { openLocalSigner } from './signing/local-signer.js';
import { openKmsSigner } from './signing/kms-signer.js';
import { openNoteKey } from './signing/note-key.js';
import { NOTE_SIGNATURE_COSIGNATURE_V1, parseNoteVerifier } from '@veritee/attestations/tlog';
import { kmsUnwrap } from './service/kms-unwrap.js';
import { createPooledAppraiser } from './service/appraiser.js';
import { createVerifier } from './verifier.js';
import {
  createBoundedServer,
  createAdmission,
  createLogger,
  DEFAULT_SERVER_LIMITS,
  PROBLEM_CONTENT_TYPE,
  problemBody,
  problemOf,
  sendPlain,
} from '@veritee/service';
import { createKdsSource, directoryStore } from '@veritee/kds';
import { openPostgresCollateralStore } from './log/postgres-collateral.js';

function readDevPki(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(
      'CONFIG_INVALID',
      `VERITEE_ALLOW_SIMULATED=1 but there is no dev PKI at ${path} (set VERITEE_HOME; the enclave or \`veritee sim\` creates it)`,
    );
  }
}

async function main(): Promise<void> {
  const config = parseConfig(
    loadSettings(process.env, VERIFIER_SETTINGS, (path) => readFileSync(path, 'utf8')),
  );
  const clock = () => new Date();
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log =
    config.database.kind === 'sqlite'
      ? openSqliteLog(config.database.path)
      : await openPostgresLog(config.database.url);
  // One KMS client serves signing and the key broker; its region and credentials come from the SDK's chain.
  const kmsEndpoint = config.kmsEndpoint;
  const kmsClient =
    config.kms !== undefined || config.keyBroker
      ? new KMSClient(kmsEndpoint === undefined ? {} : { endpoint: kmsEndpoint })
      : undefined;
  const signer =
    config.kms === undefined
      ? await openLocalSigner(join(config.dataDir, 'keys'), clock)
      : await openKmsSigner({
          client: kmsClient ?? new KMSClient({}),
          keyId: config.kms.keyId,
          retiredKeys: config.kms.retiredKeys,
        });
  // Simulated evidence is trusted only when the operator says so, and then only this machine's dev roots.
  if (config.allowSimulated) await parseDevPki(readDevPki(config.devPkiPath));
  const appraiser = createPooledAppraiser({
    workers: config.workers,
    trust: { allowSimulated: config.allowSimulated, devPkiPath: config.devPkiPath },
  });
  // SEV-SNP collateral: from AMD KDS through a cache every replica shares.
  const collateralStore =
    config.kds === undefined
      ? undefined
      : config.database.kind === 'postgres'
        ? await openPostgresCollateralStore(config.database.url)
        : directoryStore(join(config.dataDir, 'kds'));
  const collateral =
    config.kds === undefined
      ? undefined
      : createKdsSource({
          baseUrl: config.kds.url,
          allowInsecureBaseUrl: true,
          offline: config.kds.offline,
          maxVcekFetchesPerMinute: config.kds.vceksPerMinute,
          store: collateralStore,
        });
  const logger = createLogger({
    service: 'verifier',
    write: (line) => process.stderr.write(line),
  });
  // Listen first: unless configured, the issuer is where the verifier answers (a port of 0 picks one).
  const server = createBoundedServer({ ...DEFAULT_SERVER_LIMITS, ...config.limits });
  // Until the log, keys and policy are loaded: alive, but not ready, and nothing else answered.
  const notYet = problemOf(
    new RequestError(503, 'VERIFIER_STARTING', 'the verifier is loading its log, keys and policy', {
      retryAfterSeconds: 1,
    }),
    'verifier',
  );
  const starting: RequestListener = (request, response) => {
    if (request.url === '/livez' || request.url === '/healthz')
      return sendPlain(response, 200, JSON.stringify({ status: 'ok' }));
    response.setHeader('retry-after', String(notYet.retryAfter));
    sendPlain(response, notYet.status, JSON.stringify(problemBody(notYet)), PROBLEM_CONTENT_TYPE);
  };
  server.on('request', starting);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const base =
    typeof address === 'object' && address !== null
      ? `http://${address.address}:${address.port}`
      : `http://${config.host}:${config.port}`;
  const issuer = config.issuer ?? base;
  const noteSigner = await openNoteKey(
    join(config.dataDir, 'log-note.key'),
    config.logOrigin,
    `${new URL(issuer).host}/log`,
    config.logNoteKey,
  );
  const witnesses = config.witnesses.map(({ url, vkey }) => {
    const verifier = parseNoteVerifier(vkey);
    if (verifier.type !== NOTE_SIGNATURE_COSIGNATURE_V1)
      throw new ConfigError(
        'CONFIG_INVALID',
        `VERITEE_WITNESSES: ${verifier.name} is not a cosignature key (type 0x04)`,
      );
    return { url, verifier };
  });
  const { listener, warmLog, registry, witnessing } = await createVerifier({
    noteSigner,
    witnesses,
    witnessIntervalMs: config.witnessIntervalMs,
    nodeCacheBytes: config.logCacheMb * 1024 * 1024,
    logger,
    collateral,
    receiptTokens: config.receiptTokens,
    admission: createAdmission({ ...config.limits, busyCode: 'VERIFIER_BUSY' }),
    log,
    signer,
    appraiser,
    issuer,
    basePolicy: config.policy,
    adminToken: config.adminToken,
    unwrap: config.keyBroker && kmsClient !== undefined ? kmsUnwrap(kmsClient) : undefined,
    clock,
  });
  // Replicas sharing a PostgreSQL log learn of each other's policy changes from it.
  const refreshing = setInterval(() => {
    registry.refresh().catch(() => undefined);
  }, config.policyRefreshSeconds * 1000);
  refreshing.unref();
  server.off('request', starting);
  server.on('request', listener);
  // In the background: proofs are answered from the store until the cache holds their nodes.
  const warming = process.hrtime.bigint();
  warmLog().then(
    () =>
      logger.info('log nodes cached', {
        durationMs: Number((process.hrtime.bigint() - warming) / 1_000_000n),
      }),
    () => logger.warn('log nodes could not be cached; proofs read the store'),
  );
  process.stdout.write(
    [
      `veritee verifier listening on ${base}`,
      `  log        ${log.description} (${await log.size()} entries)`,
      `  policy     ${registry.current().id} v${registry.current().version}${config.adminToken === undefined ? '' : ' (admin API on: POST /v1/admin/reference-values)'}`,
      `  workers    ${config.workers} appraisal threads`,
      `  signing    ${signer.description}`,
      `  keys       ${config.keyBroker ? 'key broker on: POST /v1/keys/release' : 'no key release'}`,
      `  simulated  ${config.allowSimulated ? `accepted (dev roots from ${config.devPkiPath}), marked in receipts` : 'refused'}`,
      `  issuer     ${issuer} (what receipts name and relying parties pin)`,
      `  receipts   ${config.receiptTokens === 'open' ? 'open to anyone (VERITEE_RECEIPTS_OPEN=1)' : config.receiptTokens.length === 0 ? 'closed: no host tokens (set VERITEE_RECEIPT_TOKEN_HASHES)' : `to hosts holding one of ${config.receiptTokens.length} token(s)`}`,
      `  collateral ${config.kds === undefined ? 'off' : `${config.kds.url}${config.kds.offline ? ' (offline: cache only)' : ''}, served at ${base}/v1/collateral/`}`,
      `  JWKS       ${base}/.well-known/jwks.json`,
      `  log key    ${noteSigner.vkey} (checkpoints at ${base}/checkpoint, tiles at ${base}/tile/)`,
      `  witnesses  ${witnesses.length === 0 ? 'none (set VERITEE_WITNESSES)' : witnesses.map((witness) => witness.verifier.name).join(', ')}`,
      '',
    ].join('\n'),
  );
  const stop = () =>
    server.close(() => {
      witnessing?.stop();
      void Promise.all([log.close(), appraiser.close()]).then(() => process.exit(0));
    });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `veritee verifier: ${isVeriteeError(error) ? `${error.code}: ${error.message}` : 'INTERNAL_ERROR: failed to start'}\n`,
  );
  process.exitCode = isVeriteeError(error) ? 2 : 1;
});
