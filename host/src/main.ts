/**
 * Starts the host: the only module that reads the environment and the config
 * file, opens the port and handles signals.
 */
import { readFileSync } from 'node:fs';
import { isVeriteeError } from '@veritee/attestations';
import { loadSettings } from '@veritee/attestations/config';
import { HOST_SETTINGS, parseConfig } from './config.js';
import {
  createBoundedServer,
  createAdmission,
  createLogger,
  DEFAULT_SERVER_LIMITS,
} from '@veritee/service';
import { createMetrics } from './metrics.js';
import { createRelay } from './service/relay.js';
import { createUpstream } from './service/upstream.js';
import { createApp } from './app.js';

async function main(): Promise<void> {
  const config = parseConfig(
    loadSettings(process.env, HOST_SETTINGS, (path) => readFileSync(path, 'utf8')),
  );
  const logger = createLogger({ service: 'host', write: (line) => process.stderr.write(line) });
  const admission = createAdmission({ ...config, busyCode: 'HOST_BUSY' });
  const metrics = createMetrics(admission);
  const enclave = createUpstream({
    name: 'enclave',
    ...config.enclave,
    timeoutMs: config.timeoutMs,
  });
  const verifier =
    config.verifierUrl === undefined
      ? undefined
      : createUpstream({
          name: 'verifier',
          url: config.verifierUrl,
          timeoutMs: config.timeoutMs,
          headers:
            config.receiptToken === undefined
              ? undefined
              : { authorization: `Bearer ${config.receiptToken}` },
        });
  const relay = createRelay({
    enclave,
    verifier,
    onReceipt: (outcome) => metrics.receipt(outcome),
  });
  const app = createApp({
    relay,
    logger,
    metrics,
    admission,
    maxBodyBytes: config.maxBodyBytes,
  });
  // Slow clients cannot hold a connection forever.
  const server = createBoundedServer(
    {
      ...DEFAULT_SERVER_LIMITS,
      requestTimeoutMs: config.timeoutMs * 2,
      headersTimeoutMs: Math.min(60_000, config.timeoutMs * 2),
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(config.port, config.host);
  });
  const address = server.address();
  const where =
    typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : '';
  process.stdout.write(
    [
      `veritee host listening on http://${where}`,
      `  enclave   ${config.enclave.socketPath === undefined ? config.enclave.url : `unix:${config.enclave.socketPath}`}`,
      `  verifier  ${config.verifierUrl ?? 'none (answers carry no receipts)'}`,
      `  limits    ${config.maxInFlight} in flight, ${config.maxQueue} queued, ${config.maxBodyBytes} bytes per request, ${config.timeoutMs} ms per call`,
      '',
    ].join('\n'),
  );
  const stop = () => {
    server.close(() => {
      enclave.close();
      verifier?.close();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message = isVeriteeError(error)
    ? `${error.code}: ${error.message}`
    : 'INTERNAL_ERROR: the host failed to start';
  process.stderr.write(`veritee host: ${message}\n`);
  process.exitCode = isVeriteeError(error) ? 2 : 1;
});
