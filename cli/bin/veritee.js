#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it (root "prepare" script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'veritee: the CLI is not built; run `npm run build` in the repository root\n',
  );
  process.exit(2);
}
await import(entry.href);
