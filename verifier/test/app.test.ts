import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { fromHex } from '@veritee/attestations';
import {
  inclusionProof,
  leafHash,
  verifyConsistency,
  verifyInclusion,
} from '@veritee/attestations/merkle';
import {
  earAppraisal,
  type AttestationResultClaims,
  statementEntryBytes,
  type ReceiptClaims,
  type CheckpointClaims,
} from '@veritee/attestations/receipt';
import {
  batchReportData,
  bindingDigest,
  bindingToJson,
  inclusionToJson,
  RECEIPT_BATCH_MAX_ITEMS,
  type Binding,
} from '@veritee/attestations/wire';
import { parseCheckpoint } from '@veritee/attestations/tlog';
import { AT, simulator, trustWithDev, randomBinding } from '@veritee/mock';
import { JWCRYPTO_ORACLE_SKIP, jwcryptoEarOracle } from '@veritee/mock/oracles';
import { openSqliteLog } from '../src/log/sqlite-log.js';
import type { ReceiptLog } from '../src/log/receipt-log.js';
import { openLocalSigner } from '../src/signing/local-signer.js';
import type { Signer } from '../src/signing/signer.js';
import { createInlineAppraiser } from '../src/service/appraiser.js';
import { createVerifier } from '../src/verifier.js';

const binding = (): Binding => randomBinding();

describe('verifier API over HTTP, SQLite log', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let log: ReceiptLog;
  let signer: Signer;
  let app: Awaited<ReturnType<typeof createVerifier>>['app'];
  let allowSimulated = true;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veritee-verifier-'));
    log = openSqliteLog(join(dir, 'log.db'));
    signer = await openLocalSigner(join(dir, 'keys'), () => AT);
    ({ app } = await createVerifier({
      log,
      signer,
      appraiser: {
        // Appraises inline, allowing simulated evidence as the test sets it.
        appraise: (evidence, at, policy) =>
          createInlineAppraiser({ trust: trustWithDev, allowSimulated }).appraise(
            evidence,
            at,
            policy,
          ),
        close: () => Promise.resolve(),
      },
      issuer: 'https://verifier.test',
      basePolicy: { id: 'test', version: 3, policy: {} },
      clock: () => AT,
    }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown, path = '/v1/receipts') => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      json: (await response.json()) as Record<string, unknown>,
    };
  };
  const get = async (path: string) =>
    (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>;

  it('issues a receipt for an authentic, bound quote that verifies offline and is in the log', async () => {
    const opened = binding();
    const { evidence } = await simulator.snp({ at: AT, reportData: bindingDigest(opened) });
    const issued = await post({
      evidence: Buffer.from(evidence).toString('base64'),
      binding: bindingToJson(opened),
    });
    assert.equal(issued.status, 201, JSON.stringify(issued.json));
    const jws = String(issued.json['receipt']);

    // Offline, as a relying party: the JWKS, the receipt, a checkpoint and a proof.
    const jwks = createLocalJWKSet((await get('/.well-known/jwks.json')) as { keys: [] });
    const { payload, protectedHeader } = await compactVerify(jws, jwks);
    assert.equal(protectedHeader.typ, 'veritee-receipt+jwt');
    const claims = JSON.parse(new TextDecoder().decode(payload)) as ReceiptClaims;
    assert.equal(claims.typ, 'veritee.receipt/v2');
    assert.equal(claims.tee.simulated, true);
    assert.equal(claims.model_hash, Buffer.from(opened.modelHash).toString('hex'));
    assert.deepEqual(claims.policy, { id: 'test', version: 3 });
    const { log: position, ...entry } = claims;
    const leaf = leafHash(statementEntryBytes(entry));
    assert.equal(position.leaf_hash, Buffer.from(leaf).toString('hex'));
    // The leaf is RFC 8785 canonical JSON of the claims without `log`: keys sorted, no spaces.
    const keys = Object.keys(entry).sort();
    assert.ok(
      new TextDecoder().decode(statementEntryBytes(entry)).startsWith(`{"${keys[0] ?? ''}":`),
    );

    const checkpoint = await get('/v1/log/checkpoint');
    const head = JSON.parse(
      new TextDecoder().decode(
        (await compactVerify(String(checkpoint['checkpoint']), jwks)).payload,
      ),
    ) as CheckpointClaims;
    const proof = await get(`/v1/log/proofs/inclusion?index=${position.index}&size=${head.size}`);
    assert.ok(
      verifyInclusion(
        leaf,
        position.index,
        head.size,
        (proof['path'] as string[]).map((hex) => fromHex(hex)!),
        fromHex(head.root)!,
      ),
    );

    const stored = await get(`/v1/receipts/${claims.jti}`);
    assert.equal(stored['receipt'], jws);
  });

  it('issues receipts for every request of a batched quote, each through its own path', async () => {
    const bindings = [binding(), binding(), binding()];
    const { reportData, leaves } = batchReportData(bindings);
    const { evidence } = await simulator.nitro({ at: AT, userData: reportData });
    for (const [index, opened] of bindings.entries()) {
      const issued = await post({
        evidence: Buffer.from(evidence).toString('base64'),
        binding: bindingToJson(opened),
        inclusion: inclusionToJson({ index, size: 3, path: inclusionProof(leaves, index) }),
      });
      assert.equal(issued.status, 201, JSON.stringify(issued.json));
    }
  });

  it('issues the receipts of a batch in one request, as one by one, each in the checkpoint it carries, and refuses a stray binding in its place', async () => {
    const bindings = [binding(), binding(), binding()];
    const { reportData, leaves } = batchReportData(bindings);
    const { evidence } = await simulator.snp({ at: AT, reportData });
    const encoded = Buffer.from(evidence).toString('base64');
    const itemOf = (opened: Binding, index: number) => ({
      binding: bindingToJson(opened),
      inclusion: inclusionToJson({ index, size: 3, path: inclusionProof(leaves, index) }),
    });
    // A fourth answer claims the third's place in the batch: the quote does not vouch for it.
    const items = [...bindings.map(itemOf), itemOf(binding(), 2)];
    const batch = await post({ evidence: encoded, items }, '/v1/receipts/batch');
    assert.equal(batch.status, 201, JSON.stringify(batch.json));
    const receipts = batch.json['receipts'] as Array<Record<string, unknown>>;
    assert.equal(receipts.length, 4);
    const stray = receipts[3]?.['problem'] as { status: number; code: string };
    assert.deepEqual([stray.status, stray.code], [422, 'RECEIPT_BINDING_MISMATCH']);
    const jwks = createLocalJWKSet((await get('/.well-known/jwks.json')) as { keys: [] });
    for (const [index, opened] of bindings.entries()) {
      const issued = receipts[index] as {
        id: string;
        receipt: string;
        log: { index: number; inclusion: { size: number; path: string[]; note: string } };
      };
      const claims = JSON.parse(
        new TextDecoder().decode((await compactVerify(issued.receipt, jwks)).payload),
      ) as ReceiptClaims;
      assert.equal(claims.output_hash, Buffer.from(opened.outputHash).toString('hex'));
      const { log: position, ...entry } = claims;
      assert.equal(position.index, issued.log.index);
      const { inclusion } = issued.log;
      const head = parseCheckpoint(inclusion.note.slice(0, inclusion.note.indexOf('\n\n') + 1));
      assert.equal(head.size, inclusion.size);
      assert.ok(
        verifyInclusion(
          leafHash(statementEntryBytes(entry)),
          position.index,
          inclusion.size,
          inclusion.path.map((hex) => fromHex(hex)!),
          head.rootHash,
        ),
      );
      // The same answer asked for alone finds the same receipt.
      const alone = await post({ evidence: encoded, ...itemOf(opened, index) });
      assert.deepEqual([alone.json['id'], alone.json['receipt']], [issued.id, issued.receipt]);
    }
  });

  it('refuses a batch whose quote fails, or that is malformed or too long, as a whole', async () => {
    const bindings = [binding(), binding()];
    const { reportData, leaves } = batchReportData(bindings);
    const { evidence } = await simulator.snp({ at: AT, reportData });
    const forged = new Uint8Array(evidence);
    forged[0x50]! ^= 1;
    const items = bindings.map((opened, index) => ({
      binding: bindingToJson(opened),
      inclusion: inclusionToJson({ index, size: 2, path: inclusionProof(leaves, index) }),
    }));
    const refused = await post(
      { evidence: Buffer.from(forged).toString('base64'), items },
      '/v1/receipts/batch',
    );
    assert.deepEqual([refused.status, refused.json['code']], [422, 'RECEIPT_EVIDENCE_REJECTED']);
    const encoded = Buffer.from(evidence).toString('base64');
    for (const bad of [
      { evidence: encoded },
      { evidence: encoded, items: [] },
      {
        evidence: encoded,
        items: Array.from({ length: RECEIPT_BATCH_MAX_ITEMS + 1 }, () => items[0]),
      },
      { evidence: encoded, items: [items[0], { binding: { model_hash: 'zz' } }] },
      { items },
    ]) {
      const answer = await post(bad, '/v1/receipts/batch');
      assert.deepEqual([answer.status, answer.json['code']], [400, 'REQUEST_FIELD_INVALID']);
    }
  });

  it('refuses evidence that fails, a binding the quote does not vouch for, and malformed input, with every code', async () => {
    const opened = binding();
    const { evidence } = await simulator.snp({
      at: AT,
      reportData: bindingDigest(opened),
      debug: true,
    });
    const debug = await post({
      evidence: Buffer.from(evidence).toString('base64'),
      binding: bindingToJson(opened),
    });
    assert.deepEqual(
      [debug.status, debug.json['code'], debug.json['codes']],
      [422, 'RECEIPT_EVIDENCE_REJECTED', ['POLICY_DEBUG_ENABLED']],
    );
    assert.equal(debug.type, 'application/problem+json; charset=utf-8');

    const good = await simulator.snp({ at: AT, reportData: bindingDigest(opened) });
    const other = { ...opened, outputHash: new Uint8Array(32) };
    const mismatch = await post({
      evidence: Buffer.from(good.evidence).toString('base64'),
      binding: bindingToJson(other),
    });
    assert.deepEqual([mismatch.status, mismatch.json['code']], [422, 'RECEIPT_BINDING_MISMATCH']);

    allowSimulated = false;
    const refused = await post({
      evidence: Buffer.from(good.evidence).toString('base64'),
      binding: bindingToJson(opened),
    });
    allowSimulated = true;
    assert.deepEqual([refused.status, refused.json['codes']], [422, ['SNP_SIMULATED_NOT_ALLOWED']]);

    const sizeBefore = await log.size();
    for (const body of [
      {},
      { evidence: '***', binding: bindingToJson(opened) },
      { evidence: 'AAAA', binding: { modelHash: 'zz' } },
    ]) {
      const response = await post(body);
      assert.equal(response.status, 400, JSON.stringify(response.json));
    }
    assert.equal(await log.size(), sizeBefore, 'refusals never reach the log');
  });

  describe('POST /v1/verify', () => {
    const verify = (body: unknown) => post(body, '/v1/verify');
    const resultClaims = async (jwt: unknown) => {
      const { payload, protectedHeader } = await compactVerify(
        String(jwt),
        createLocalJWKSet(signer.jwks()),
      );
      assert.equal(protectedHeader.typ, 'eat+jwt');
      const claims = JSON.parse(new TextDecoder().decode(payload)) as AttestationResultClaims;
      return { claims, appraisal: earAppraisal(claims) };
    };

    it('signs a warning for simulated evidence, echoing the nonce, with the measurement and TCB', async () => {
      const { evidence, report } = await simulator.snp({ at: AT });
      const response = await verify({
        evidence: Buffer.from(evidence).toString('base64'),
        nonce: '00ff00ff00ff00ff',
      });
      assert.equal(response.status, 200);
      assert.equal(response.json['status'], 'warning');
      const { claims, appraisal } = await resultClaims(response.json['result']);
      assert.equal(appraisal['ear.status'], 'warning');
      assert.equal(appraisal['ear.appraisal-policy-id'], 'test@3');
      assert.equal(claims.eat_nonce, Buffer.from('00ff00ff00ff00ff', 'hex').toString('base64url'));
      assert.equal(claims.exp, claims.iat + 300);
      assert.match(claims['ear.verifier-id'].build, /^veritee-verifier\/\d+\.\d+\.\d+$/);
      const { tee } = appraisal.veritee;
      assert.equal(tee.simulated, true);
      assert.equal(tee.measurement, Buffer.from(report.measurement).toString('hex'));
      assert.equal(typeof tee.tcb?.['snp'], 'number');
      assert.deepEqual(appraisal.veritee.codes, []);
    });

    it(
      'makes results python3-jwcrypto verifies and reads as EAR, the nonce included',
      { skip: JWCRYPTO_ORACLE_SKIP },
      async () => {
        for (const [options, status] of [
          [{}, 'warning'],
          [{ debug: true }, 'contraindicated'],
        ] as const) {
          const { evidence } = await simulator.snp({ at: AT, ...options });
          const response = await verify({
            evidence: Buffer.from(evidence).toString('base64'),
            nonce: 'ab'.repeat(32),
          });
          const answer = jwcryptoEarOracle({
            jwt: String(response.json['result']),
            jwks: signer.jwks(),
            nonce: 'ab'.repeat(32),
          });
          assert.equal(answer['status'], status);
          assert.equal(answer['submod'], 'sev-snp');
          assert.equal(answer['nonce'], Buffer.alloc(32, 0xab).toString('base64url'));
        }
        // A result whose signature was tampered with does not verify there either.
        const { evidence } = await simulator.snp({ at: AT });
        const jwt = String(
          (await verify({ evidence: Buffer.from(evidence).toString('base64') })).json['result'],
        );
        const [header, payload, signature = ''] = jwt.split('.');
        const flipped = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
        assert.throws(() => jwcryptoEarOracle({ jwt: flipped, jwks: signer.jwks() }), /jwcrypto/);
      },
    );

    it('signs contraindicated, with every code and violation, for evidence that fails', async () => {
      const { evidence } = await simulator.snp({ at: AT, debug: true });
      const response = await verify({ evidence: Buffer.from(evidence).toString('base64') });
      assert.equal(response.json['status'], 'contraindicated');
      const { appraisal } = await resultClaims(response.json['result']);
      assert.deepEqual(appraisal.veritee.codes, ['POLICY_DEBUG_ENABLED']);
      assert.equal(appraisal.veritee.violations[0]?.code, 'POLICY_DEBUG_ENABLED');
      assert.equal(appraisal['ear.trustworthiness-vector'].configuration, 96);

      allowSimulated = false;
      const untrusted = await verify({
        evidence: Buffer.from((await simulator.snp({ at: AT })).evidence).toString('base64'),
      });
      allowSimulated = true;
      assert.deepEqual(
        [untrusted.json['status'], untrusted.json['codes']],
        ['contraindicated', ['SNP_SIMULATED_NOT_ALLOWED']],
      );

      const garbage = await verify({ evidence: Buffer.from('not evidence').toString('base64') });
      assert.deepEqual(
        [garbage.json['status'], garbage.json['codes']],
        ['contraindicated', ['EVIDENCE_FORMAT_UNKNOWN']],
      );
    });

    it('refuses a malformed request with 400', async () => {
      for (const body of [{}, { evidence: '***' }, { evidence: 'AAAA', nonce: 'XYZ' }]) {
        const response = await verify(body);
        assert.deepEqual([response.status, response.json['code']], [400, 'REQUEST_FIELD_INVALID']);
      }
    });
  });

  it('proves that every checkpoint it signed is consistent with the next', async () => {
    const first = (await get('/v1/log/checkpoint'))['size'] as number;
    const opened = binding();
    const { evidence } = await simulator.snp({ at: AT, reportData: bindingDigest(opened) });
    await post({
      evidence: Buffer.from(evidence).toString('base64'),
      binding: bindingToJson(opened),
    });
    const second = (await get('/v1/log/checkpoint'))['size'] as number;
    const proof = await get(`/v1/log/proofs/consistency?first=${first}&second=${second}`);
    assert.ok(
      verifyConsistency(
        first,
        second,
        (proof['proof'] as string[]).map((hex) => fromHex(hex)!),
        await log.root(first),
        await log.root(second),
      ),
    );
    const bad = await fetch(
      `${base}/v1/log/proofs/consistency?first=${second + 5}&second=${second}`,
    );
    assert.equal(bad.status, 400);
  });

  it('keeps its signing key owner-only, and keeps retired keys in the JWKS after rotation', async () => {
    const files = (await readdir(join(dir, 'keys'))).filter((name) => name.endsWith('.jwk.json'));
    assert.equal((await stat(join(dir, 'keys', files[0]!))).mode & 0o777, 0o600);
    const before = signer.jwks().keys.map((key) => key.kid);
    await signer.rotate();
    const after = signer.jwks().keys.map((key) => key.kid);
    assert.equal(after.length, before.length + 1);
    assert.deepEqual(after.slice(1), before);
    const opened = binding();
    const { evidence } = await simulator.snp({ at: AT, reportData: bindingDigest(opened) });
    const issued = await post({
      evidence: Buffer.from(evidence).toString('base64'),
      binding: bindingToJson(opened),
    });
    assert.equal(decodeProtectedHeader(String(issued.json['receipt'])).kid, after[0]);
  });
});
