/**
 * docs/errors.md must list every error and violation code the code can raise,
 * and nothing the code no longer raises.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT as root, sourceFiles } from './source-files.js';

function codesInSource(): Set<string> {
  const codes = new Set<string>();
  const domains = ['SNP', 'NITRO'];
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    // Codes are quoted SCREAMING_SNAKE literals: the first argument of an error or violation
    // call, a `code:`, or the `errorCode:` / `busyCode:` of a bounded fetch or an admission.
    for (const match of text.matchAll(
      /(?:\(\s*(?:\d{3},\s*)?|[a-z]*[cC]ode: )'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g,
    ))
      codes.add(match[1]!);
    for (const match of text.matchAll(/`\$\{domain\}_([A-Z_]+)`/g))
      for (const domain of domains) codes.add(`${domain}_${match[1]!}`);
  }
  codes.add('INTERNAL_ERROR');
  // The CLI's usage errors: one word, as command-line tools name them.
  if (readFileSync(join(root, 'cli/src/usage-error.ts'), 'utf8').includes("super('USAGE'"))
    codes.add('USAGE');
  return codes;
}

describe('docs/errors.md', () => {
  const documented = new Set(
    [
      ...readFileSync(join(root, 'docs/errors.md'), 'utf8').matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm),
    ].map((match) => match[1]!),
  );
  const used = codesInSource();

  it('lists every code the code raises', () => {
    assert.deepEqual([...used].filter((code) => !documented.has(code)).sort(), []);
  });

  it('lists no code that nothing raises', () => {
    assert.deepEqual([...documented].filter((code) => !used.has(code)).sort(), []);
  });

  it('finds the codes it checks', () => {
    assert.ok(used.size > 50, `only ${used.size} codes found: the scan is broken`);
  });
});
