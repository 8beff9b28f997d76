/**
 * The workspace graph is enforced, not described: the lint rules of
 * eslint.graph.js refuse a path into another workspace, a deep import past an
 * exports map, and an entry point a workspace may not use, and the tree as it
 * stands breaks none of them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { readFileSync } from 'node:fs';
import { ALLOWED, graph } from '../eslint.graph.js';

const ROOT = resolve(import.meta.dirname, '..');
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [
    { ignores: ['**/dist/**', '**/node_modules/**'] },
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...graph,
  ],
});

/** The rule ids a line of code breaks when it sits in `file`. */
async function breaches(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

describe('the workspace graph', () => {
  it('refuses a relative import into another workspace, from a test, a source or a benchmark', async () => {
    for (const [code, file] of [
      [
        "import { createVerifier } from '../../../verifier/src/verifier.js';",
        'enclave/test/keys/x.test.ts',
      ],
      [
        "import { simulator } from '../../attestations/test/sim-fixture.js';",
        'client/test/x.test.ts',
      ],
      ["import { openSqliteLog } from '../verifier/src/log/sqlite-log.js';", 'bench/x.ts'],
      ["export { x } from '../../host/src/app.js';", 'verifier/src/x.ts'],
      ["const m = await import('../../mock/src/index.js');", 'enclave/src/x.ts'],
    ])
      assert.deepEqual(await breaches(code!, file!), ['veritee/no-cross-workspace-path'], code);
  });

  it('allows relative imports within a workspace', async () => {
    assert.deepEqual(
      await breaches("import { createApp } from '../src/app.js';", 'verifier/test/x.test.ts'),
      [],
    );
  });

  it('refuses deep imports past an exports map, even from tests', async () => {
    for (const specifier of [
      '@veritee/verifier/src/verifier.js',
      '@veritee/attestations/test/vectors.js',
      '@veritee/enclave/dist/index.js',
    ])
      assert.deepEqual(
        await breaches(`import { x } from '${specifier}';`, 'test/x.test.ts'),
        ['no-restricted-imports'],
        specifier,
      );
  });

  it('keeps the host to the wire formats, and the TCB free of receipts and the simulator', async () => {
    for (const [code, file] of [
      ["import { openRequest } from '@veritee/attestations/seal';", 'host/src/x.ts'],
      ["import { appraise } from '@veritee/attestations/evidence';", 'host/src/x.ts'],
      ["import { verifyReceipt } from '@veritee/attestations/receipt';", 'enclave/src/x.ts'],
      ["import { createSimulator } from '@veritee/attestations/sim';", 'enclave/src/x.ts'],
      ["import { startLocalKms } from '@veritee/mock/kms';", 'verifier/src/x.ts'],
      ["import { createApp } from '@veritee/verifier';", 'client/src/x.ts'],
      ["import { toHex } from '@veritee/service';", 'attestations/src/x.ts'],
    ])
      assert.deepEqual(await breaches(code!, file!), ['no-restricted-imports'], code);
    assert.deepEqual(
      await breaches(
        "import { parseEnclaveAnswer } from '@veritee/attestations/wire';",
        'host/src/x.ts',
      ),
      [],
    );
  });

  it('is the graph docs/architecture.md draws, workspace by workspace', () => {
    const table = new Map(
      [
        ...readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8').matchAll(
          /^\| `([a-z]+)` +\| (.+?) +\|$/gm,
        ),
      ].map(([, workspace, imports]) => [
        workspace!,
        imports === 'nothing'
          ? []
          : [...imports!.matchAll(/`([a-z/-]+)`/g)].map((match) => match[1]!),
      ]),
    );
    assert.deepEqual(Object.fromEntries(table), ALLOWED);
  });

  it('holds for every file in the tree', async () => {
    const results = await eslint.lintFiles(['**/*.ts']);
    const found = results.flatMap((result) =>
      result.messages.map((message) => `${result.filePath}:${message.line} ${message.ruleId}`),
    );
    assert.ok(results.length > 200, `linted ${results.length} files`);
    assert.deepEqual(found, []);
  });
});
