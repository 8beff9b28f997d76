import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVerify } from '../src/index.js';
import { lastJson, runCli } from '@veritee/mock/cli';
import { vectors, VECTORS_DIR, REAL_SNP_POLICY } from '@veritee/mock/vectors';

const veritee = (...args: string[]) => runCli(args);

describe('veritee verify', () => {
  it('accepts a production Nitro document and exits 0, ending with one JSON line', async () => {
    const result = await veritee(
      'verify',
      join(VECTORS_DIR, 'nitro-evervault-2022-10-13-nonce/document.cbor'),
      '--at',
      '2022-10-13T08:58:02Z',
      '--offline',
      '--kds-cache',
      tmpdir(),
      '--json',
    );
    assert.equal(result.status, 0, result.stderr);
    const verdict = lastJson(result.stdout);
    assert.equal(verdict['verdict'], 'accept');
    assert.equal(verdict['format'], 'nitro');
    assert.deepEqual(verdict['codes'], []);
    assert.match(result.stderr, /^module_id\s+i-020b6af9246d90e92-enc0183d09086c24190$/m);
  });

  it('refuses the debug Nitro document under the default policy and exits 1 with the debug code', async () => {
    const result = await veritee(
      'verify',
      join(VECTORS_DIR, 'nitro-evervault-2022-10-12-debug/document.cbor'),
      '--at',
      '2022-10-12T13:50:06Z',
      '--offline',
      '--kds-cache',
      tmpdir(),
      '--json',
    );
    assert.equal(result.status, 1);
    assert.deepEqual(lastJson(result.stdout)['codes'], ['POLICY_DEBUG_ENABLED']);
    // With --json, stdout is the one JSON document; what people read goes to stderr.
    assert.match(result.stderr, /POLICY_DEBUG_ENABLED: pcr0 expected/);
  });

  it('exits 64 for a missing file and 2 for a bad policy, naming the problem', async () => {
    const missing = await veritee('verify', '/nonexistent/evidence.bin');
    assert.equal(missing.status, 64);
    assert.match(missing.stderr, /USAGE: cannot read the evidence file/);
    const dir = await mkdtemp(join(tmpdir(), 'veritee-cli-'));
    try {
      await writeFile(join(dir, 'policy.json'), JSON.stringify({ snp: { vmpls: [7] } }));
      const bad = await veritee(
        'verify',
        join(VECTORS_DIR, 'snp-virtee-milan-v2/report.bin'),
        '--policy',
        join(dir, 'policy.json'),
      );
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /POLICY_INVALID: policy field snp\.vmpls\[0\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('on every published vector', () => {
    for (const vector of vectors) {
      it(`${vector.expect === 'accept' ? 'accepts' : 'rejects'} ${vector.id} with the published fields`, async () => {
        const dir = await mkdtemp(join(tmpdir(), 'veritee-cli-'));
        try {
          await writeFile(
            join(dir, 'policy.json'),
            JSON.stringify({ ...REAL_SNP_POLICY, allowDebug: true }),
          );
          const args = [
            join(VECTORS_DIR, vector.evidence),
            '--at',
            vector.verify_at,
            '--policy',
            join(dir, 'policy.json'),
            '--offline',
            '--kds-cache',
            dir,
            '--json',
          ];
          if (vector.endorsement !== undefined)
            args.push('--endorsement', join(VECTORS_DIR, vector.endorsement));
          if (vector.product !== undefined) args.push('--product', vector.product);
          let output = '';
          const status = await runVerify(
            args,
            { now: () => new Date(), env: {}, simulatedTrust: () => Promise.resolve(undefined) },
            (text) => (output += text),
          );
          const verdict = lastJson(output);
          assert.equal(verdict['verdict'], vector.expect);
          assert.equal(status, vector.expect === 'accept' ? 0 : 1);
          const fields = verdict['fields'] as Record<string, unknown>;
          for (const [name, value] of Object.entries(vector.fields ?? {}))
            assert.equal(fields[name], value, name);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
});
