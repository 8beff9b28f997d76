/**
 * The OpenAPI 3.1 descriptions of the verifier and the host against the
 * routes their apps register: every route described and every described
 * route served, each path parameter declared, and GET /openapi.json serving
 * the same document.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import { createAdmission, createLogger, openApiPath } from '@veritee/service';
import { registeredRoutes } from '@veritee/service/express';
import { AT, trustWithDev } from '@veritee/mock';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
  type ReceiptLog,
} from '@veritee/verifier';
import { createApp, createMetrics, createRelay, createUpstream } from '@veritee/host';

type Document = {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
};

/** Registered routes and described operations, compared; a RegExp route covers the paths it matches. */
function compare(app: Express, document: Document): void {
  const routes = registeredRoutes(app);
  const described = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const patterns = routes
    .map((route) => route.split(' '))
    .filter(([, path]) => path!.startsWith('^'))
    .map(([method, source]) => [method!, new RegExp(source!)] as const);
  const servedBy = (operation: string) => {
    const [method, path] = operation.split(' ') as [string, string];
    return (
      routes.map((route) => openApiPath(route)).includes(operation) ||
      patterns.some(([m, pattern]) => m === method && pattern.test(path.replace(/\{\w+\}/g, '0')))
    );
  };
  assert.deepEqual(
    described.filter((operation) => !servedBy(operation)),
    [],
    'described, not served',
  );
  const undescribed = routes
    .filter((route) => !route.split(' ')[1]!.startsWith('^'))
    .map((route) => openApiPath(route))
    .filter((route) => !described.includes(route));
  assert.deepEqual(undescribed, [], 'served, not described');
  for (const [method, pattern] of patterns)
    assert.ok(
      described.some(
        (operation) =>
          operation.startsWith(`${method} `) &&
          pattern.test(operation.split(' ')[1]!.replace(/\{\w+\}/g, '0')),
      ),
      `${pattern.source} is described`,
    );
  assert.equal(document.openapi, '3.1.0');
  for (const [path, methods] of Object.entries(document.paths))
    for (const operation of Object.values(methods))
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]))
        assert.ok(
          operation.parameters?.some(
            (parameter) => parameter.in === 'path' && parameter.name === name,
          ),
          `${path} declares {${name}}`,
        );
}

describe('OpenAPI descriptions', () => {
  let dir: string;
  let log: ReceiptLog;
  let verifier: Express;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veritee-openapi-'));
    log = openSqliteLog(join(dir, 'log.db'));
    ({ app: verifier } = await createVerifier({
      log,
      signer: await openLocalSigner(join(dir, 'keys'), () => AT),
      appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
      issuer: 'http://verifier.test',
      basePolicy: { id: 'p', version: 1, policy: {} },
      clock: () => AT,
    }));
  });
  after(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describe every verifier route, and it serves its description', async () => {
    const server = verifier.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`,
      );
      assert.equal(response.status, 200);
      compare(verifier, (await response.json()) as Document);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('describe every host route', async () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 1, busyCode: 'HOST_BUSY' });
    const enclave = createUpstream({ name: 'enclave', url: 'http://127.0.0.1:9', timeoutMs: 1000 });
    const host = createApp({
      relay: createRelay({ enclave, verifier: undefined, onReceipt: () => undefined }),
      logger: createLogger({ service: 'host', write: () => undefined }),
      metrics: createMetrics(admission),
      admission,
      maxBodyBytes: 4096,
    });
    const server = host.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`,
      );
      compare(host, (await response.json()) as Document);
    } finally {
      enclave.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
