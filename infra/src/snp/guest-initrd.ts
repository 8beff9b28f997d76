/**
 * The initrd of the measured SEV-SNP guest: busybox as PID 1's toolbox, Node,
 * the enclave with its production dependencies, its model (bundled or
 * sealed) and the kernel modules the guest loads. Measured direct boot puts
 * the initrd's SHA-256 into the launch digest, so the build is reproducible:
 * files in byte order, times at SOURCE_DATE_EPOCH, owner root, modes
 * normalized, newc cpio (`--reproducible`) and gzip without a name or time.
 * Two builds of one commit on one Node give one initrd, hence one measurement.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ConfigError } from '@veritee/attestations';

export interface GuestInitrdOptions {
  /** The repository, built (`npm run build`): dist, the bundled model, the native addon. */
  readonly root: string;
  /** Where the initrd goes. */
  readonly out: string;
  /** SOURCE_DATE_EPOCH: every file's time. */
  readonly epoch: number;
  /** The Node binary to ship. Default: the one running. */
  readonly node?: string | undefined;
  /** A static busybox. Default /bin/busybox (Debian's busybox-static). */
  readonly busybox?: string | undefined;
  /** Kernel modules (.ko files) the guest loads at boot, in order. */
  readonly modules?: readonly string[] | undefined;
  /** A sealed model and its config instead of the bundled one, and how its key is released. */
  readonly sealedModel?:
    | {
        readonly file: string;
        readonly config: string;
        readonly sha256: string;
        readonly keyBrokerUrl: string;
      }
    | undefined;
}

export interface GuestInitrd {
  readonly sha256: string;
  readonly files: number;
  readonly bytes: number;
}

/** onnxruntime's binaries for other systems: megabytes the guest never loads. */
/** The files a model config names beside it (`files` of a v2 config; none in v1). */
async function configFiles(config: string): Promise<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(config, 'utf8'));
  } catch {
    throw new ConfigError('CONFIG_INVALID', 'the model config is not JSON');
  }
  const files = (parsed as { files?: unknown }).files ?? {};
  const names = typeof files === 'object' && files !== null ? Object.keys(files) : [];
  // The enclave takes plain names only; so does the image.
  if (names.some((name) => !/^[A-Za-z0-9._-]{1,128}$/.test(name) || name.startsWith('.')))
    throw new ConfigError(
      'CONFIG_INVALID',
      'the model config names a file that is not a plain name',
    );
  return names;
}

const FOREIGN_BINARIES = /\/bin\/napi-v\d+\/(?:darwin|win32|linux\/arm64)(?:\/|$)/;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function copyTree(from: string, to: string, skip: (path: string) => boolean): Promise<void> {
  const info = await lstat(from);
  if (skip(from)) return;
  if (info.isSymbolicLink()) return copyTree(await realpath(from), to, skip);
  if (info.isDirectory()) {
    await mkdir(to, { recursive: true });
    for (const name of await readdir(from)) await copyTree(join(from, name), join(to, name), skip);
    return;
  }
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
}

/** Where `name` resolves from `dir`, as Node looks it up (node_modules of each parent). */
async function resolvePackage(name: string, dir: string, root: string): Promise<string> {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (await exists(join(candidate, 'package.json'))) return candidate;
    if (at === root || dirname(at) === at)
      throw new ConfigError(
        'CONFIG_INVALID',
        `${name} (a dependency of ${relative(root, dir) || '.'}) is not installed; run npm ci`,
      );
  }
}

/**
 * Every package the enclave needs at run time (its production dependencies,
 * recursively), as [where it is installed, where it goes in the guest].
 */
async function productionClosure(root: string): Promise<Map<string, string>> {
  const placed = new Map<string, string>();
  const visit = async (packageDir: string, name: string) => {
    const real = await realpath(packageDir);
    if (placed.has(real)) return;
    // A workspace package goes where Node finds it (node_modules/@veritee/x), built parts only.
    const inRepo = relative(root, real);
    const target = inRepo.split(sep)[0] === 'node_modules' ? inRepo : join('node_modules', name);
    placed.set(real, target);
    const manifest = JSON.parse(await readFile(join(real, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
    for (const dependency of names.sort()) {
      const found = await resolvePackage(dependency, packageDir, root).catch((error: unknown) => {
        if (manifest.optionalDependencies?.[dependency] !== undefined) return undefined;
        throw error;
      });
      if (found !== undefined) await visit(found, dependency);
    }
  };
  const enclave = join(root, 'enclave');
  const manifest = JSON.parse(await readFile(join(enclave, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  // The simulator's dev PKI (@veritee/mock) is loaded only to simulate a TEE:
  // a hardware guest leaves it out, so it could not simulate if told to.
  for (const dependency of Object.keys(manifest.dependencies ?? {}).sort())
    if (dependency !== '@veritee/mock')
      await visit(await resolvePackage(dependency, enclave, root), dependency);
  return placed;
}

/** Shared libraries `binary` loads, as the dynamic loader lists them. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const listing = await run('ldd', [binary]);
  return [...listing.matchAll(/(\/\S+\.so[.\d]*) \(0x/g)].map((match) => match[1]!);
}

function run(command: string, args: readonly string[], cwd?: string, input?: string) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      reject(new ConfigError('CONFIG_INVALID', `${command} cannot run: ${error.message}`)),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new ConfigError('CONFIG_INVALID', `${command} failed: ${stderr.slice(-500)}`)),
    );
    child.stdin.end(input ?? '');
  });
}

/** Every path under `dir`, relative, in byte order (what cpio archives, in that order). */
async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const names = (await readdir(join(dir, prefix))).sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  const paths: string[] = [];
  for (const name of names) {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    paths.push(path);
    if ((await lstat(join(dir, path))).isDirectory()) paths.push(...(await listTree(dir, path)));
  }
  return paths;
}

/**
 * Builds the initrd at `options.out`.
 * @throws ConfigError CONFIG_INVALID when an input is missing or a tool (cpio, gzip, ldd) fails
 */
export async function buildGuestInitrd(options: GuestInitrdOptions): Promise<GuestInitrd> {
  const { root } = options;
  const node = options.node ?? process.execPath;
  const busybox = options.busybox ?? '/bin/busybox';
  for (const [what, path] of [
    ['the enclave build (npm run build)', join(root, 'enclave/dist/main.js')],
    ['the bundled model (npm run build)', join(root, 'enclave/models')],
    ['the TEE ioctl addon (npm run build)', join(root, 'enclave/build/tee-ioctl.node')],
    ['a static busybox (apt install busybox-static)', busybox],
    ['node', node],
  ] as const)
    if (!(await exists(path))) throw new ConfigError('CONFIG_INVALID', `missing ${what}: ${path}`);
  const stage = await mkdtemp(join(tmpdir(), 'veritee-initrd-'));
  try {
    const put = (from: string, to: string) => copyTree(from, join(stage, to), () => false);
    await put(join(root, 'infra/images/snp/init'), 'init');
    await put(join(root, 'infra/images/snp/udhcpc.sh'), 'etc/udhcpc.sh');
    await put(busybox, 'bin/busybox');
    await put(node, 'usr/local/bin/node');
    for (const dir of ['proc', 'sys', 'dev', 'tmp', 'etc/ssl'])
      await mkdir(join(stage, dir), { recursive: true });
    // The enclave: its build, native addon and bundled model, then its dependencies.
    await put(join(root, 'enclave/package.json'), 'opt/veritee/enclave/package.json');
    await put(join(root, 'enclave/dist'), 'opt/veritee/enclave/dist');
    await put(join(root, 'enclave/models'), 'opt/veritee/enclave/models');
    await put(
      join(root, 'enclave/build/tee-ioctl.node'),
      'opt/veritee/enclave/build/tee-ioctl.node',
    );
    for (const [from, to] of await productionClosure(root)) {
      const workspace = !relative(root, from).startsWith('node_modules');
      await copyTree(
        from,
        join(stage, 'opt/veritee', to),
        (path) =>
          basename(path) === 'node_modules' ||
          basename(path) === '.bin' ||
          FOREIGN_BINARIES.test(path) ||
          // Workspace packages: their manifest and build only, never sources or tests.
          (workspace &&
            path !== from &&
            !/^(?:package\.json|dist)$/.test(relative(from, path).split(sep)[0]!)),
      );
    }
    if (options.sealedModel !== undefined) {
      const { file, config, sha256, keyBrokerUrl } = options.sealedModel;
      if (!/^[0-9a-f]{64}$/.test(sha256))
        throw new ConfigError('CONFIG_INVALID', 'the sealed model pin is not a SHA-256');
      await put(file, 'opt/veritee/model/model.sealed');
      await put(config, 'opt/veritee/model/model.json');
      // A v2 config pins files beside it (tokenizer, dictionary); they go beside it too.
      for (const file of await configFiles(config))
        await put(join(dirname(config), file), `opt/veritee/model/${file}`);
      await writeFile(
        join(stage, 'opt/veritee/model/model.env'),
        [
          'VERITEE_MODEL=/opt/veritee/model/model.sealed',
          'VERITEE_MODEL_CONFIG=/opt/veritee/model/model.json',
          `VERITEE_MODEL_SHA256=${sha256}`,
          'VERITEE_MODEL_KEY_RELEASE=broker',
          `VERITEE_KEY_BROKER_URL=${keyBrokerUrl}`,
          '',
        ].join('\n'),
      );
    }
    // The system libraries Node and every native addon load (the addons' own sit beside them).
    const binaries = [
      join(stage, 'usr/local/bin/node'),
      ...(await listTree(stage, 'opt'))
        .filter((path) => /\.node$|\.so(?:\.\d+)*$/.test(path))
        .map((path) => join(stage, path)),
    ];
    const libraries = new Set<string>();
    for (const binary of binaries)
      for (const library of await sharedLibraries(binary))
        if (!library.startsWith(stage)) libraries.add(library);
    for (const library of [...libraries].sort()) await put(library, library.slice(1));
    const modules = options.modules ?? [];
    for (const module of modules) await put(module, join('lib/modules', basename(module)));
    if (modules.length > 0)
      await writeFile(
        join(stage, 'lib/modules/order'),
        `${modules.map((module) => basename(module)).join('\n')}\n`,
      );
    // Normalized: owner root (cpio -R), executables 755 and the rest 644, one time.
    const paths = await listTree(stage);
    for (const path of paths) {
      const full = join(stage, path);
      const info = await lstat(full);
      if (!info.isSymbolicLink())
        await chmod(full, info.isDirectory() || (info.mode & 0o111) !== 0 ? 0o755 : 0o644);
    }
    // PID 1 and its DHCP hook run whatever mode their sources were checked out with.
    for (const script of ['init', 'etc/udhcpc.sh']) await chmod(join(stage, script), 0o755);
    for (const path of [...paths].reverse())
      await lutimes(join(stage, path), options.epoch, options.epoch);
    await lutimes(stage, options.epoch, options.epoch);
    await mkdir(dirname(options.out), { recursive: true });
    await run(
      'sh',
      ['-c', 'cpio --quiet -o -H newc --reproducible -R 0:0 | gzip -n -6 > "$0"', options.out],
      stage,
      `.\n${paths.join('\n')}\n`,
    );
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of createReadStream(options.out)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).byteLength;
    }
    return { sha256: hash.digest('hex'), files: paths.length, bytes };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
