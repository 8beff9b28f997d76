/**
 * A unique prompt sent through the whole system must never appear in the
 * host's logs, in the traffic between host and enclave (captured here by a TCP
 * proxy in between), or in any file the system writes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createClient } from '@veritee/client';
import { bundledModelHash } from '@veritee/enclave';
import {
  startService,
  type Service,
  createHome,
  startTestVerifier,
  TEST_HOST_TOKEN,
} from '@veritee/mock/system';
import { trustWithDev } from '@veritee/mock';

/** A TCP proxy that records every byte in both directions. */
async function startRecordingProxy(target: URL) {
  const captured: Buffer[] = [];
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
    inbound.on('data', (chunk: Buffer) => captured.push(chunk));
    outbound.on('data', (chunk: Buffer) => captured.push(chunk));
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    captured,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The canary as the bytes it could leak as: UTF-8, UTF-16, base64 and hex of its text. */
function leakForms(canary: string): Buffer[] {
  const text = Buffer.from(canary, 'utf8');
  return [
    text,
    Buffer.from(canary, 'utf16le'),
    Buffer.from(text.toString('base64').slice(0, 24), 'utf8'),
    Buffer.from(text.toString('hex'), 'utf8'),
  ];
}

describe('a private prompt', () => {
  const home = createHome();
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  const services: Service[] = [];
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let output = '';

  before(async () => {
    const enclave = await startService('enclave', {
      home,
      mode: 'source',
      env: { VERITEE_ENCLAVE_LISTEN: '127.0.0.1:0' },
    });
    services.push(enclave);
    proxy = await startRecordingProxy(new URL(enclave.url));
    const verifier = await startTestVerifier(home);
    services.push(verifier);
    const host = await startService('host', {
      home,
      mode: 'source',
      env: {
        VERITEE_HOST_LISTEN: '127.0.0.1:0',
        VERITEE_ENCLAVE_URL: proxy.url,
        VERITEE_VERIFIER_URL: verifier.url,
        VERITEE_RECEIPT_TOKEN: TEST_HOST_TOKEN,
      },
    });
    services.push(host);
    const client = createClient({
      host: host.url,
      verifier: verifier.url,
      trust: trustWithDev,
      policy: { models: [await bundledModelHash()], allowSimulated: true },
    });
    output = (await client.infer(`Please summarise this: ${canary}`)).output;
    // Stop every service so each log is flushed to its file.
    for (const service of services.reverse()) await service.stop();
    await proxy.close();
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('went through the system and was answered', () => {
    assert.match(output, /"injection":\[/);
    assert.ok(proxy.captured.length > 0, 'the proxy saw the traffic');
  });

  it('never crosses between host and enclave in a readable form', () => {
    const traffic = Buffer.concat(proxy.captured);
    assert.ok(traffic.includes('POST /v1/infer'), 'the capture holds the relayed request');
    for (const form of leakForms(canary)) assert.ok(!traffic.includes(form), 'the prompt leaked');
  });

  it("never reaches the host's log", () => {
    const log = readFileSync(join(home, 'logs', 'host.log'));
    assert.ok(log.includes('"route":"/v1/infer"'), 'the host logged the request');
    for (const form of leakForms(canary)) assert.ok(!log.includes(form), 'the prompt leaked');
  });

  it('is in no file the system wrote', () => {
    const files = filesUnder(home);
    assert.ok(
      files.some((file) => file.endsWith('log.db')),
      'the verifier wrote its log',
    );
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const form of leakForms(canary))
        assert.ok(!bytes.includes(form), `the prompt leaked into ${file}`);
    }
  });
});
