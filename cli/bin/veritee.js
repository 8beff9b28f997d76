#!/usr/bin/env node
// Runs the CLI: its bundle (fast to start), else the compiled modules; `npm ci`
// builds both (the root "prepare" script).
import { existsSync } from 'node:fs';

const entry = ['../bundle/main.js', '../dist/main.js']
  .map((path) => new URL(path, import.meta.url))
  .find((url) => existsSync(url));
if (entry === undefined) {
  process.stderr.write(
    'veritee: the CLI is not built; run `npm run build` in the repository root\n',
  );
  process.exit(2);
}
await import(entry.href);
