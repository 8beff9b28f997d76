/**
 * The verifier fetches, caches and serves SEV-SNP collateral: real evidence
 * that does not carry its VCEK verifies with the VCEK fetched from a KDS
 * stand-in that serves the real VCEKs under AMD's paths; fifty concurrent
 * appraisals of one chip make one KDS request; 429s are waited out; and
 * GET /v1/collateral serves what was fetched, with how long it stays good.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTrustStore } from '@veritee/attestations/evidence';
import { parseSnpReport, SNP_REPORT_SIZE } from '@veritee/attestations/snp';
import { createKdsSource } from '@veritee/kds';
import { startKdsStandIn, servedVceks, type KdsStandIn } from '@veritee/mock/kds';
import { REAL_SNP_POLICY, vectorFile } from '@veritee/mock/vectors';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
} from '../src/index.js';

// Real evidence whose report names its product (version 3 and later), so the verifier can find its VCEK.
const chip = servedVceks().find(
  ({ vector }) =>
    parseSnpReport(vectorFile(vector.evidence).subarray(0, SNP_REPORT_SIZE)).cpuid !== undefined,
)!;
const evidence = vectorFile(chip.vector.evidence).subarray(0, SNP_REPORT_SIZE);
const at = new Date(chip.vector.verify_at);

describe('verifier collateral', () => {
  let dir: string;
  let kds: KdsStandIn;
  const servers: Server[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-collateral-'));
    kds = await startKdsStandIn();
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await kds.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A verifier over real HTTP, real roots only, with collateral from the stand-in (or none). */
  async function verifier(name: string, withCollateral: boolean, maxVcekFetchesPerMinute?: number) {
    const log = openSqliteLog(join(dir, `${name}.db`));
    const { app } = await createVerifier({
      log,
      signer: await openLocalSigner(join(dir, `${name}-keys`), () => at),
      appraiser: createInlineAppraiser({ trust: defaultTrustStore(), allowSimulated: false }),
      issuer: 'http://verifier.test',
      basePolicy: { id: 'real', version: 1, policy: { ...REAL_SNP_POLICY, allowDebug: true } },
      clock: () => at,
      collateral: withCollateral
        ? createKdsSource({
            baseUrl: kds.url,
            allowInsecureBaseUrl: true,
            cacheDir: join(dir, `${name}-kds`),
            sleep: () => new Promise((resolve) => setTimeout(resolve, 5)),
            maxVcekFetchesPerMinute,
          })
        : undefined,
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      base,
      verify: async (sent: Uint8Array = evidence) => {
        const response = await fetch(`${base}/v1/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ evidence: Buffer.from(sent).toString('base64') }),
        });
        return {
          httpStatus: response.status,
          ...((await response.json()) as { status: string; codes: string[]; code?: string }),
        };
      },
    };
  }

  it('cannot verify real evidence without its VCEK when it has no collateral source', async () => {
    const bare = await verifier('bare', false);
    const { status, codes } = await bare.verify();
    assert.deepEqual([status, codes], ['contraindicated', ['SNP_ENDORSEMENT_MISSING']]);
  });

  it('verifies real evidence with the VCEK it fetched, asking KDS once for fifty concurrent appraisals', async () => {
    const fetching = await verifier('fetching', true);
    kds.requests.length = 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => fetching.verify()));
    assert.ok(
      results.every((result) => result.status === 'affirming'),
      JSON.stringify(results[0]),
    );
    assert.equal(kds.requests.filter((path) => path === chip.path).length, 1);
    // The CRL (which the stand-in lacks) was asked for once too: the miss is remembered.
    assert.equal(kds.requests.filter((path) => path.endsWith('/crl')).length, 1);
  });

  it("asks KDS for a stranger's made-up chips only within its budget, and still verifies the chips it knows", async () => {
    const guarded = await verifier('guarded', true, 3);
    kds.requests.length = 0;
    assert.equal((await guarded.verify()).status, 'affirming');
    // The real report under chip ids of no chip (CHIP_ID at 0x1A0): the VCEK is looked up first.
    const madeUp = Array.from({ length: 4 }, (_, n) => {
      const forged = new Uint8Array(evidence);
      forged.fill(n + 1, 0x1a0, 0x1a0 + 64);
      return forged;
    });
    const answers = [];
    for (const forged of madeUp) answers.push(await guarded.verify(forged));
    assert.deepEqual(
      answers.map(({ httpStatus, status, code }) => [httpStatus, code ?? status]),
      [
        [200, 'contraindicated'],
        [200, 'contraindicated'],
        [502, 'KDS_BUDGET_SPENT'],
        [502, 'KDS_BUDGET_SPENT'],
      ],
    );
    assert.equal((await guarded.verify()).status, 'affirming');
    // The real chip's VCEK and two made-up chips', besides the CRL.
    assert.equal(kds.requests.filter((path) => !path.endsWith('/crl')).length, 3);
  });

  it('waits out KDS 429s and still verifies', async () => {
    const patient = await verifier('patient', true);
    kds.requests.length = 0;
    kds.throttle(2, 0);
    assert.equal((await patient.verify()).status, 'affirming');
    assert.deepEqual(
      kds.requests.filter((path) => path === chip.path).length,
      3,
      'two 429s, then the VCEK',
    );
  });

  it('serves the VCEK, the chain and misses under the KDS paths, saying how long each stays good', async () => {
    const serving = await verifier('serving', true);
    const vcek = await fetch(`${serving.base}/v1/collateral${chip.path}`);
    assert.equal(vcek.status, 200);
    assert.equal(vcek.headers.get('content-type'), 'application/pkix-cert');
    assert.equal(vcek.headers.get('cache-control'), 'public, max-age=86400');
    assert.deepEqual(new Uint8Array(await vcek.arrayBuffer()), chip.der);
    kds.requests.length = 0;
    await fetch(`${serving.base}/v1/collateral${chip.path}`);
    assert.deepEqual(kds.requests, [], 'served from the cache');
    const chain = await fetch(`${serving.base}/v1/collateral/vcek/v1/${chip.product}/cert_chain`);
    assert.equal(chain.status, 200);
    assert.match(await chain.text(), /BEGIN CERTIFICATE[\s\S]+BEGIN CERTIFICATE/);
    const unknown = await fetch(
      `${serving.base}/v1/collateral/vcek/v1/${chip.product}/${'00'.repeat(64)}?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1`,
    );
    assert.deepEqual(
      [unknown.status, ((await unknown.json()) as { code: string }).code],
      [404, 'COLLATERAL_NOT_FOUND'],
    );
    const bad = await fetch(`${serving.base}/v1/collateral/vcek/v1/Zen9/crl`);
    assert.equal(bad.status, 400);
  });
});
