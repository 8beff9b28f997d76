// Bundles the compiled CLI (dist/) into bundle/ with esbuild: one file per
// command, loaded when that command runs, so `veritee verify` starts without
// resolving hundreds of modules, and the published package needs none of the
// workspace's private packages. What has native code or a large tree of its
// own (the AWS SDK, better-sqlite3, pino) stays an ordinary dependency,
// imported only by the commands that use it. The bundled model's hash (what
// clients pin by default) is computed here, from the built model, and inlined.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledModelHash } from '@veritee/enclave/bundled-model';

const outdir = new URL('../bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
const generated = mkdtempSync(join(tmpdir(), 'veritee-cli-bundle-'));
const modelModule = join(generated, 'bundled-model.js');
writeFileSync(
  modelModule,
  `// Inlined by cli/scripts/bundle.mjs from the built bundled model.\nexport const bundledModelHash = async () => ${JSON.stringify(await bundledModelHash())};\n`,
);
try {
  await build({
    entryPoints: [new URL('../dist/main.js', import.meta.url).pathname],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    alias: { '@veritee/enclave/bundled-model': modelModule },
    external: ['@aws-sdk/*', 'better-sqlite3', 'pino'],
    // CommonJS dependencies bundled into ESM call require() for Node's own modules.
    banner: {
      js: "import { createRequire as veriteeCreateRequire } from 'node:module'; const require = veriteeCreateRequire(import.meta.url);",
    },
  });
} finally {
  rmSync(generated, { recursive: true, force: true });
}
