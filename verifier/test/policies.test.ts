/**
 * Reference values over the admin API: each registration or retirement is a
 * new policy version, changes which evidence gets a receipt, and is recorded
 * in the log as a signed statement anyone can prove included.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, createLocalJWKSet } from 'jose';
import { fromHex, toHex } from '@veritee/attestations';
import { verifyInclusion } from '@veritee/attestations/merkle';
import { statementLeafHash, type PolicyChangeClaims } from '@veritee/attestations/receipt';
import { bindingDigest, bindingToJson } from '@veritee/attestations/wire';
import { AT, randomBinding, simulator, trustWithDev } from '@veritee/mock';
import type { ReceiptLog } from '../src/log/receipt-log.js';
import { openSqliteLog } from '../src/log/sqlite-log.js';
import { openPostgresLog } from '../src/log/postgres-log.js';
import { createInlineAppraiser } from '../src/service/appraiser.js';
import { openLocalSigner } from '../src/signing/local-signer.js';
import { createVerifier } from '../src/verifier.js';
import { createTestDatabase, POSTGRES_SKIP } from '@veritee/mock/postgres';

const TOKEN = 'a-test-admin-token-of-32-characters!';
const M1 = new Uint8Array(48).fill(1);
const M2 = new Uint8Array(48).fill(2);
const MODEL_A = new Uint8Array(32).fill(0xa);
const MODEL_B = new Uint8Array(32).fill(0xb);

/** A verifier over real HTTP on a given log; `keys` is shared so replicas sign alike. */
async function startVerifier(log: ReceiptLog, keys: string, adminToken: string | null = TOKEN) {
  const signer = await openLocalSigner(keys, () => AT);
  const { app, registry } = await createVerifier({
    log,
    signer,
    appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
    issuer: 'https://verifier.test',
    basePolicy: { id: 'prod', version: 1, policy: {} },
    adminToken: adminToken ?? undefined,
    clock: () => AT,
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const send = async (path: string, body: unknown, token: string | undefined = TOKEN) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  return {
    base,
    registry,
    signer,
    change: (action: string, reference: unknown, token?: string) =>
      send('/v1/admin/reference-values', { action, reference }, token),
    async receiptFor(measurement: Uint8Array, modelHash: Uint8Array) {
      const binding = { ...randomBinding(), modelHash };
      const { evidence } = await simulator.snp({
        at: AT,
        measurement,
        reportData: bindingDigest(binding),
      });
      return send('/v1/receipts', {
        evidence: Buffer.from(evidence).toString('base64'),
        binding: bindingToJson(binding),
      });
    },
    get: async (path: string) =>
      (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const snp = (measurement: Uint8Array, modelHash?: Uint8Array) => ({
  tee: 'sev-snp',
  measurement: toHex(measurement),
  ...(modelHash === undefined ? {} : { modelHash: toHex(modelHash) }),
});

describe('reference values and policy versions', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veritee-policies-'));
    dirs.push(dir);
    return dir;
  };

  it('changes which evidence gets a receipt, one version per change, and survives a restart', async () => {
    const dir = await tempDir();
    const log = openSqliteLog(join(dir, 'log.db'));
    const verifier = await startVerifier(log, join(dir, 'keys'));

    // No reference values yet: any measurement passes.
    assert.equal((await verifier.receiptFor(M1, MODEL_A)).status, 201);

    const registered = await verifier.change('register', snp(M2, MODEL_A));
    assert.equal(registered.status, 201);
    assert.equal(registered.json['version'], 2);

    const stale = await verifier.receiptFor(M1, MODEL_A);
    assert.deepEqual(
      [stale.status, stale.json['codes']],
      [422, ['POLICY_MEASUREMENT_NOT_ALLOWED']],
    );
    const approved = await verifier.receiptFor(M2, MODEL_A);
    assert.equal(approved.status, 201);
    const claims = JSON.parse(
      Buffer.from(String(approved.json['receipt']).split('.')[1]!, 'base64url').toString(),
    ) as { policy: { id: string; version: number } };
    assert.deepEqual(claims.policy, { id: 'prod', version: 2 });
    const otherModel = await verifier.receiptFor(M2, MODEL_B);
    assert.deepEqual(
      [otherModel.status, otherModel.json['code']],
      [422, 'RECEIPT_MODEL_NOT_REGISTERED'],
    );

    assert.equal((await verifier.change('retire', snp(M2))).json['version'], 3);
    const retired = await verifier.receiptFor(M2, MODEL_A);
    assert.deepEqual(
      [retired.status, retired.json['codes']],
      [422, ['POLICY_MEASUREMENT_NOT_ALLOWED']],
    );

    await verifier.close();
    await log.close();
    const reopened = openSqliteLog(join(dir, 'log.db'));
    const restarted = await startVerifier(reopened, join(dir, 'keys'));
    assert.equal(restarted.registry.current().version, 3);
    assert.deepEqual(restarted.registry.current().policy.snp?.measurements, []);
    await restarted.close();
    await reopened.close();
  });

  it('records each change in the log as a signed statement whose inclusion proves', async () => {
    const dir = await tempDir();
    const log = openSqliteLog(join(dir, 'log.db'));
    const verifier = await startVerifier(log, join(dir, 'keys'));
    await verifier.change('register', snp(M1));
    await verifier.change('register', {
      tee: 'nitro',
      pcrs: { pcr0: toHex(M1), pcr1: toHex(M2), pcr2: toHex(M2) },
    });
    const policies = await verifier.get('/v1/policies');
    assert.equal(policies['version'], 3);
    const changes = policies['changes'] as Array<{ statement: string; log: { index: number } }>;
    assert.equal(changes.length, 2);
    const jwks = createLocalJWKSet(verifier.signer.jwks());
    const { checkpoint } = (await verifier.get('/v1/log/checkpoint')) as { checkpoint: string };
    const head = JSON.parse(
      new TextDecoder().decode((await compactVerify(checkpoint, jwks)).payload),
    ) as { size: number; root: string };
    for (const change of changes) {
      const { payload, protectedHeader } = await compactVerify(change.statement, jwks);
      assert.equal(protectedHeader.typ, 'veritee-policy-change+jwt');
      const { log: position, ...entry } = JSON.parse(
        new TextDecoder().decode(payload),
      ) as PolicyChangeClaims;
      assert.equal(position.leaf_hash, statementLeafHash(entry));
      const proof = (await verifier.get(
        `/v1/log/proofs/inclusion?index=${position.index}&size=${head.size}`,
      )) as { path: string[] };
      assert.ok(
        verifyInclusion(
          fromHex(position.leaf_hash)!,
          position.index,
          head.size,
          proof.path.map((hash) => fromHex(hash)!),
          fromHex(head.root)!,
        ),
      );
    }
    await verifier.close();
    await log.close();
  });

  it('refuses changes without the admin token, bad values, and retiring what is not registered', async () => {
    const dir = await tempDir();
    const log = openSqliteLog(join(dir, 'log.db'));
    const verifier = await startVerifier(log, join(dir, 'keys'));
    assert.deepEqual(
      [(await verifier.change('register', snp(M1), 'wrong-token')).json['code']],
      ['ADMIN_UNAUTHORIZED'],
    );
    const unsigned = await fetch(`${verifier.base}/v1/admin/reference-values`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'register', reference: snp(M1) }),
    });
    assert.equal(unsigned.status, 401);
    for (const reference of [
      { tee: 'sev-snp', measurement: 'ab' },
      { tee: 'sev-snp', measurement: toHex(M1), extra: 1 },
      { tee: 'nitro', pcrs: { pcr1: toHex(M1) } },
      { tee: 'tdx' },
    ]) {
      const response = await verifier.change('register', reference);
      assert.deepEqual([response.status, response.json['code']], [400, 'REQUEST_FIELD_INVALID']);
    }
    const unknown = await verifier.change('retire', snp(M2));
    assert.deepEqual([unknown.status, unknown.json['code']], [409, 'POLICY_REFERENCE_UNKNOWN']);
    assert.equal(verifier.registry.current().version, 1, 'no refused change made a version');
    assert.equal((await log.findReceipts('policy-')).length, 0);
    await verifier.close();

    const closed = await startVerifier(log, join(dir, 'keys'), null);
    assert.equal((await closed.change('register', snp(M1))).status, 404);
    await closed.close();
    await log.close();
  });

  it(
    'gives replicas sharing a PostgreSQL log one sequence of versions',
    { skip: POSTGRES_SKIP },
    async () => {
      const dir = await tempDir();
      const database = await createTestDatabase();
      const [logA, logB] = [
        await openPostgresLog(database.url),
        await openPostgresLog(database.url),
      ];
      const [a, b] = [
        await startVerifier(logA, join(dir, 'keys')),
        await startVerifier(logB, join(dir, 'keys')),
      ];
      try {
        const results = await Promise.all([
          a.change('register', snp(M1)),
          b.change('register', snp(M2)),
          a.change('register', snp(new Uint8Array(48).fill(3))),
          b.change('register', snp(new Uint8Array(48).fill(4))),
        ]);
        assert.deepEqual(results.map((result) => result.json['version']).sort(), [2, 3, 4, 5]);
        await Promise.all([a.registry.refresh(), b.registry.refresh()]);
        assert.deepEqual(a.registry.current(), b.registry.current());
        assert.equal(a.registry.current().policy.snp?.measurements?.length, 4);
        // What one replica registered, the other enforces.
        assert.equal((await b.receiptFor(M1, MODEL_A)).status, 201);
      } finally {
        await a.close();
        await b.close();
        await logA.close();
        await logB.close();
        await database.drop();
      }
    },
  );
});
