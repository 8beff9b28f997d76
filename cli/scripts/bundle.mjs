// Bundles the compiled CLI (dist/) into bundle/ with esbuild: one file per
// command, loaded when that command runs, so `veritee verify` starts without
// resolving hundreds of modules. What has native code, files beside its own
// modules or a large tree (the AWS SDK, CDK, onnxruntime, the enclave) stays
// an ordinary dependency, imported only by the commands that use it.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = new URL('../bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL('../dist/main.js', import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  external: [
    '@aws-sdk/*',
    '@veritee/enclave',
    '@veritee/enclave/*',
    '@veritee/infra',
    'aws-cdk-lib',
    'better-sqlite3',
    'constructs',
    'express',
    'onnxruntime-node',
    'pg',
    'pino',
    'piscina',
  ],
  // CommonJS dependencies bundled into ESM call require() for Node's own modules.
  banner: {
    js: "import { createRequire as veriteeCreateRequire } from 'node:module'; const require = veriteeCreateRequire(import.meta.url);",
  },
});
