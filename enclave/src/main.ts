/**
 * Starts the enclave service: the only module that reads the environment,
 * opens the listening socket and handles signals.
 */
import { rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { isVeriteeError, toHex } from '@veritee/attestations';
import { loadSettings } from '@veritee/attestations/config';
import { generateEnclaveKeyPair } from '@veritee/attestations/seal';
import { ENCLAVE_SETTINGS, parseConfig } from './config.js';
import { loadModel } from './model/model.js';
import { openSealedWeights } from './model/sealed-weights.js';
import { selectTee } from './tee/select.js';
import {
  createAdmission,
  createLogger,
  DEFAULT_SERVER_LIMITS,
  veriteeHome,
} from '@veritee/service';
import { createEnclaveMetrics } from './metrics.js';
import { createAttestedInference } from './service/attested-inference.js';
import { createEvidenceCache } from './service/evidence-cache.js';
import { createApp } from './app.js';

const logger = createLogger({ service: 'enclave', write: (line) => process.stderr.write(line) });
const metrics = createEnclaveMetrics();

async function main(): Promise<void> {
  const config = parseConfig(
    loadSettings(process.env, ENCLAVE_SETTINGS, (path) => readFileSync(path, 'utf8')),
  );
  const clock = () => new Date();
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  // The TEE comes first: a sealed model's key is released only to its evidence.
  const tee = await selectTee(config, { clock, home: veriteeHome(process.env), progress });
  const release = config.modelKeyRelease;
  const model = await loadModel({
    modelPath: config.model.path,
    configPath: config.model.configPath,
    expectedSha256: config.model.sha256,
    threads: config.modelThreads,
    ...(release.kind === 'none'
      ? {}
      : {
          modelBytes: await openSealedWeights({
            path: config.model.path,
            expectedSha256: config.model.sha256,
            release,
            tee,
            progress,
          }),
        }),
  });
  // The private key lives in this process's memory only and dies with it.
  const keyPair = generateEnclaveKeyPair();
  const inference = createAttestedInference({
    model,
    tee,
    keyPair,
    clock,
    batching: config.batching,
    onBatch: (batch) => metrics.batch(batch),
    onModel: (run) => metrics.model(run),
  });
  const evidence = createEvidenceCache({
    inference,
    tee,
    modelHash: model.identity.modelHash,
    enclaveKey: keyPair.publicKey,
    refreshSeconds: config.evidenceRefreshSeconds,
    clock,
  });
  await evidence.current();
  const server = createApp({
    inference,
    evidence,
    logger,
    metrics,
    maxRequestBytes: config.maxRequestBytes,
    admission: createAdmission({ ...config.limits, busyCode: 'ENCLAVE_BUSY' }),
    serverLimits: { ...DEFAULT_SERVER_LIMITS, ...config.limits },
  });
  if (config.listen.kind === 'unix') await rm(config.listen.path, { force: true });
  await new Promise<void>((resolve) => {
    if (config.listen.kind === 'unix') server.listen(config.listen.path, resolve);
    else server.listen(config.listen.port, config.listen.host, resolve);
  });
  const address = server.address();
  const where =
    config.listen.kind === 'unix'
      ? `unix:${config.listen.path}`
      : typeof address === 'object' && address !== null
        ? `${address.address}:${address.port}`
        : '';
  process.stdout.write(
    [
      `veritee enclave listening on ${where}`,
      `  TEE         ${tee.description}${tee.simulated ? ' (simulated: verifiers must allow it explicitly)' : ''}`,
      `  model       ${config.model.path}${release.kind === 'none' ? '' : ` (sealed; key released by ${release.kind === 'kms' ? 'AWS KMS' : 'the key broker'})`}`,
      `  model hash  ${toHex(model.identity.modelHash)} (file sha256 ${model.identity.fileSha256})`,
      `  batching    ${config.batching.kind === 'batch' ? `on, ${config.batching.windowMs} ms window, at most ${config.batching.maxSize}` : 'off (one quote per request)'}`,
      `  enclave key ${toHex(keyPair.publicKey)}`,
      '',
    ].join('\n'),
  );
  const stop = () => {
    evidence.stop();
    server.close(() => {
      void model.close().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message = isVeriteeError(error)
    ? `${error.code}: ${error.message}`
    : 'INTERNAL_ERROR: the enclave failed to start';
  process.stderr.write(`veritee enclave: ${message}\n`);
  process.exitCode = isVeriteeError(error) ? 2 : 1;
});
