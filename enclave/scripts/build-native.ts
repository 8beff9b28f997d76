/**
 * Compiles native/tee-ioctl.c, the Node-API addon for the /dev/sev-guest and
 * /dev/nsm ioctls, into build/tee-ioctl.node with the system C compiler.
 * A Node-API addon needs only node_api.h; no node-gyp is involved.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const candidates = [
  process.env['npm_config_nodedir'],
  resolve(dirname(process.execPath), '..'),
  '/usr',
  '/usr/local',
]
  .filter((dir): dir is string => dir !== undefined && dir !== '')
  .map((dir) => join(dir, 'include', 'node'));
const include = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
if (include === undefined) {
  process.stderr.write(`build-native: node_api.h not found in ${candidates.join(', ')}\n`);
  process.exit(1);
}
mkdirSync(join(root, 'build'), { recursive: true });
const output = join(root, 'build', 'tee-ioctl.node');
execFileSync(
  process.env['CC'] ?? 'cc',
  [
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-shared',
    '-fPIC',
    `-I${include}`,
    '-o',
    output,
    join(root, 'native', 'tee-ioctl.c'),
  ],
  { stdio: 'inherit' },
);
process.stdout.write(`wrote build/tee-ioctl.node (headers from ${include})\n`);
