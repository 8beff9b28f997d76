/**
 * Writes the fixed, test-only dev PKI to mock/fixtures/dev-pki.json,
 * so tests need not generate nine RSA-4096 keys. Its clock is pinned: valid from
 * 2025-01-01 for 25 years. Run again only to replace it on purpose.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDevPki, serializeDevPki } from '@veritee/attestations/sim';

const pki = await createDevPki({
  now: new Date('2026-01-01T00:00:00Z'),
  onProgress: (step) => process.stdout.write(`generating ${step}\n`),
});
const file = join(import.meta.dirname, '..', 'mock', 'fixtures', 'dev-pki.json');
writeFileSync(file, await serializeDevPki(pki));
process.stdout.write(`wrote ${file}\n`);
