import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { ConfigError, UpstreamError } from '@veritee/attestations';
import { cacheFile, createKdsSource, crlPath, vcekPath } from '../src/index.js';
import { AT, simulator } from '@veritee/mock';

const chipId = new Uint8Array(64).fill(0xab);
const tcb = 0x4405000000000002n;
const vcekBytes = new Uint8Array([0x30, 0x82, 1, 2, 3]);

describe('createKdsSource', () => {
  let server: Server;
  let baseUrl: string;
  const requests: string[] = [];
  let failWith: number | undefined;
  let servedCrl: Uint8Array | undefined;
  /** Answer this many more requests with 429 and Retry-After: 7. */
  let throttled = 0;

  before(async () => {
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      if (failWith !== undefined) return void response.writeHead(failWith).end();
      if (throttled > 0) {
        throttled -= 1;
        return void response.writeHead(429, { 'retry-after': '7' }).end();
      }
      if (request.url === vcekPath('Milan', chipId, tcb))
        return void response.writeHead(200).end(vcekBytes);
      if (request.url === crlPath('Milan', 'VCEK') && servedCrl !== undefined)
        return void response.writeHead(200).end(servedCrl);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches a VCEK by its KDS path, caches it on disk, and answers from the cache after', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'veritee-kds-'));
    try {
      requests.length = 0;
      const source = createKdsSource({ cacheDir, baseUrl, allowInsecureBaseUrl: true });
      assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
      assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
      assert.deepEqual(requests, [vcekPath('Milan', chipId, tcb)]);
      const offline = createKdsSource({ cacheDir, offline: true });
      assert.deepEqual(await offline.vcek('Milan', chipId, tcb), vcekBytes);
      assert.deepEqual(await readdir(join(cacheDir, 'vcek/v1/Milan')), [
        `${'ab'.repeat(64)}@blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68`,
      ]);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('answers undefined for what the KDS does not have, and for a missing CRL', async () => {
    const source = createKdsSource({ baseUrl, allowInsecureBaseUrl: true });
    assert.equal(await source.vcek('Genoa', chipId, tcb), undefined);
    assert.equal(await source.crl('Milan', 'VCEK'), undefined);
  });

  it('reports an unreachable or failing KDS as UpstreamError for a VCEK, and as no CRL for a CRL', async () => {
    failWith = 503;
    try {
      const waits: number[] = [];
      const source = createKdsSource({
        baseUrl,
        allowInsecureBaseUrl: true,
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      });
      await assert.rejects(
        source.vcek('Milan', chipId, tcb),
        (error: unknown) => error instanceof UpstreamError && error.code === 'KDS_UNAVAILABLE',
      );
      // A 503 without Retry-After is retried three times, backing off: 1 s, 2 s, 4 s.
      assert.deepEqual(waits, [1000, 2000, 4000]);
      assert.equal(await source.crl('Milan', 'VCEK'), undefined);
    } finally {
      failWith = undefined;
    }
    const closed = createKdsSource({
      baseUrl: 'http://127.0.0.1:1',
      allowInsecureBaseUrl: true,
      timeoutMs: 2000,
    });
    await assert.rejects(
      closed.vcek('Milan', chipId, tcb),
      (error: unknown) => error instanceof UpstreamError,
    );
  });

  it('never touches the network when offline', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'veritee-kds-'));
    try {
      requests.length = 0;
      const source = createKdsSource({
        cacheDir,
        offline: true,
        baseUrl,
        allowInsecureBaseUrl: true,
      });
      assert.equal(await source.vcek('Milan', chipId, tcb), undefined);
      assert.equal(await source.crl('Milan', 'VCEK'), undefined);
      assert.deepEqual(requests, []);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('refuses an http base URL unless allowed, and offline mode without a directory', () => {
    assert.throws(
      () => createKdsSource({ baseUrl: 'http://kds.example' }),
      (error: unknown) => error instanceof ConfigError && error.code === 'KDS_CONFIG_INVALID',
    );
    assert.throws(
      () => createKdsSource({ offline: true }),
      (error: unknown) => error instanceof ConfigError && error.code === 'KDS_CONFIG_INVALID',
    );
  });

  it('fetches a CRL again once the cached one is past its nextUpdate, and keeps a fresh one', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'veritee-kds-'));
    try {
      const stale = (await simulator.snp({ at: new Date(AT.getTime() - 30 * 86_400_000) }))
        .crls[0]!;
      const fresh = (await simulator.snp({ at: AT })).crls[0]!;
      const file = cacheFile(cacheDir, crlPath('Milan', 'VCEK'));
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, stale);
      servedCrl = fresh;
      requests.length = 0;
      const offline = createKdsSource({ cacheDir, offline: true, clock: () => AT });
      assert.deepEqual(await offline.crl('Milan', 'VCEK'), stale);
      const online = createKdsSource({
        cacheDir,
        baseUrl,
        allowInsecureBaseUrl: true,
        clock: () => AT,
      });
      assert.deepEqual(await online.crl('Milan', 'VCEK'), fresh);
      assert.deepEqual(await online.crl('Milan', 'VCEK'), fresh);
      assert.deepEqual(requests, [crlPath('Milan', 'VCEK')]);
    } finally {
      servedCrl = undefined;
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('answers from memory what the store gave while it cannot have changed, a CRL until its nextUpdate, a miss for a minute', async () => {
    const crl = (await simulator.snp({ at: AT })).crls[0]!;
    const held = new Map<string, Uint8Array>([
      [vcekPath('Milan', chipId, tcb), vcekBytes],
      [crlPath('Milan', 'VCEK'), crl],
    ]);
    const reads: string[] = [];
    let now = AT;
    const source = createKdsSource({
      offline: true,
      clock: () => now,
      store: {
        get: (path) => {
          reads.push(path);
          return Promise.resolve(held.get(path));
        },
        put: () => Promise.resolve(),
      },
    });
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
      assert.deepEqual(await source.crl('Milan', 'VCEK'), crl);
      assert.equal(await source.vcek('Genoa', chipId, tcb), undefined);
    }
    held.set(vcekPath('Genoa', chipId, tcb), vcekBytes);
    assert.equal(await source.vcek('Genoa', chipId, tcb), undefined, 'a miss is kept a minute');
    assert.deepEqual(reads, [
      vcekPath('Milan', chipId, tcb),
      crlPath('Milan', 'VCEK'),
      vcekPath('Genoa', chipId, tcb),
    ]);
    // Past the CRL's nextUpdate it is read again, and then again only once a minute (negativeTtlMs).
    reads.length = 0;
    now = new Date(AT.getTime() + 60 * 86_400_000);
    assert.deepEqual(await source.crl('Milan', 'VCEK'), crl);
    assert.deepEqual(await source.crl('Milan', 'VCEK'), crl);
    assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
    now = new Date(now.getTime() + 61_000);
    assert.deepEqual(await source.crl('Milan', 'VCEK'), crl);
    assert.deepEqual(await source.vcek('Genoa', chipId, tcb), vcekBytes);
    assert.deepEqual(reads, [
      crlPath('Milan', 'VCEK'),
      crlPath('Milan', 'VCEK'),
      vcekPath('Genoa', chipId, tcb),
    ]);
  });

  it('keeps at most 4,096 answers in memory, however many chips a stranger names', async () => {
    let reads = 0;
    const source = createKdsSource({
      offline: true,
      store: {
        get: () => {
          reads += 1;
          return Promise.resolve(undefined);
        },
        put: () => Promise.resolve(),
      },
    });
    for (let n = 0n; n < 4097n; n++) await source.vcek('Milan', chipId, n);
    reads = 0;
    await source.vcek('Milan', chipId, 0n);
    await source.vcek('Milan', chipId, 4096n);
    assert.equal(reads, 1, 'the memory was cleared when full; the newest answer is kept');
  });

  it('asks KDS for at most maxVcekFetchesPerMinute new VCEKs a minute, and refuses the rest without asking', async () => {
    requests.length = 0;
    let now = AT;
    const source = createKdsSource({
      baseUrl,
      allowInsecureBaseUrl: true,
      maxVcekFetchesPerMinute: 2,
      clock: () => now,
    });
    const made = (n: number) => new Uint8Array(64).fill(n);
    assert.equal(await source.vcek('Milan', made(1), tcb), undefined);
    assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
    const spent = (error: unknown) =>
      error instanceof UpstreamError && error.code === 'KDS_BUDGET_SPENT';
    await assert.rejects(source.vcek('Milan', made(2), tcb), spent);
    // What it knows still answers, and chains and CRLs are not counted.
    assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
    assert.equal(await source.chain('Milan', 'VCEK'), undefined);
    assert.equal(await source.crl('Genoa', 'VCEK'), undefined);
    assert.equal(requests.length, 4);
    now = new Date(AT.getTime() + 59_000);
    await assert.rejects(source.vcek('Milan', made(2), tcb), spent);
    // A minute on, two more; the refusal was not remembered as KDS's answer.
    now = new Date(AT.getTime() + 60_000);
    assert.equal(await source.vcek('Milan', made(2), tcb), undefined);
    assert.equal(await source.vcek('Milan', made(3), tcb), undefined);
    await assert.rejects(source.vcek('Milan', made(4), tcb), spent);
    assert.deepEqual(requests.slice(4), [
      vcekPath('Milan', made(2), tcb),
      vcekPath('Milan', made(3), tcb),
    ]);
  });

  describe('when KDS limits its callers', () => {
    it('survives 429s by waiting out each Retry-After, and asks once for fifty concurrent callers', async () => {
      requests.length = 0;
      throttled = 2;
      const waits: number[] = [];
      const source = createKdsSource({
        baseUrl,
        allowInsecureBaseUrl: true,
        sleep: (ms) => {
          waits.push(ms);
          return new Promise((resolve) => setTimeout(resolve, 5));
        },
      });
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => source.vcek('Milan', chipId, tcb)),
      );
      assert.ok(
        answers.every((answer) => answer !== undefined && answer.length === vcekBytes.length),
      );
      // Two 429s then the VCEK: three requests in all for fifty callers, each wait as KDS said.
      assert.deepEqual(requests, Array(3).fill(vcekPath('Milan', chipId, tcb)));
      assert.deepEqual(waits, [7000, 7000]);
    });

    it('gives up after its retries, and remembers a miss or a failure for a while', async () => {
      requests.length = 0;
      throttled = 10;
      let now = AT;
      const source = createKdsSource({
        baseUrl,
        allowInsecureBaseUrl: true,
        maxRetries: 1,
        sleep: () => Promise.resolve(),
        clock: () => now,
      });
      for (let round = 0; round < 3; round++)
        await assert.rejects(
          source.vcek('Milan', chipId, tcb),
          (error: unknown) => error instanceof UpstreamError && error.code === 'KDS_UNAVAILABLE',
        );
      assert.equal(requests.length, 2, 'one attempt and one retry, then the failure is remembered');
      throttled = 0;
      requests.length = 0;
      for (let round = 0; round < 3; round++)
        assert.equal(await source.vcek('Genoa', chipId, tcb), undefined);
      assert.equal(requests.length, 1, 'a miss is asked for once');
      // A minute on the source's clock (negativeTtlMs), both are asked for again.
      now = new Date(AT.getTime() + 61_000);
      requests.length = 0;
      assert.deepEqual(await source.vcek('Milan', chipId, tcb), vcekBytes);
      assert.equal(await source.vcek('Genoa', chipId, tcb), undefined);
      assert.equal(requests.length, 2);
    });
  });
});
