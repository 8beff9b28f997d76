/**
 * docs/formats.md specifies every format the code emits or accepts: each
 * `veritee.<name>/v<N>` tag the sources use, and each media type they sign
 * with, names a section of the document (a heading holding it in backquotes).
 * A tag in the document that the code no longer uses fails too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT as root, sourceFiles } from './source-files.js';

const TAG = /veritee\.[a-z0-9-]+\/v[0-9]+/g;
const HEADER_TYPES = /(?:TYPE|typ)\b[^=\n]*=\s*'([a-z0-9.-]+\+jwt)'/g;

function inSources(pattern: RegExp, group = 0): Set<string> {
  const found = new Set<string>();
  for (const file of sourceFiles(['mock']))
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) found.add(match[group]!);
  return found;
}

const formats = readFileSync(join(root, 'docs/formats.md'), 'utf8');
const headings = formats.split('\n').filter((line) => /^#{2,3} /.test(line));
const inHeadings = (value: string) => headings.some((line) => line.includes(`\`${value}\``));

describe('docs/formats.md', () => {
  it('gives every format tag and JWS media type the code uses a section', () => {
    const tags = inSources(TAG);
    const types = inSources(HEADER_TYPES, 1);
    assert.ok(tags.size >= 20, `found ${tags.size} tags`);
    assert.ok(types.has('eat+jwt') && types.has('veritee-receipt+jwt'), [...types].join());
    const missing = [...tags, ...types].filter((tag) => !inHeadings(tag)).sort();
    assert.deepEqual(missing, [], 'tags without a section in docs/formats.md');
  });

  it('describes no tag the code no longer uses', () => {
    const tags = inSources(TAG);
    const stale = [...new Set(headings.flatMap((line) => line.match(TAG) ?? []))].filter(
      (tag) => !tags.has(tag),
    );
    assert.deepEqual(stale, []);
  });
});
