/**
 * Runs Veritee's services on one machine, each as its own process on
 * 127.0.0.1: the enclave (simulated TEE, bundled model), the verifier
 * (SQLite) and the host. `npm start`, `npm run demo`, the end-to-end tests and
 * the benchmarks all start the system through here. Each service's output
 * goes to `<home>/logs/<service>.log`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { toHex } from '@veritee/attestations';
import { claimedMeasurement } from '@veritee/attestations/evidence';
import { parseEnclaveEvidence } from '@veritee/attestations/wire';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');

export type ServiceName = 'enclave' | 'verifier' | 'host';

/** `dist`: the built output, as production runs it; `source`: the TypeScript through tsx, as tests do. */
export type RunMode = 'dist' | 'source';

export interface Service {
  readonly name: ServiceName;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** What the service printed on start. */
  readonly banner: string;
  readonly logFile: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

const LISTENING = /listening on (?:http:\/\/)?([\d.]+):(\d+)/;

/**
 * Starts one service and resolves once it listens (the enclave listens only
 * once its model is loaded and its first evidence is ready).
 */
export function startService(
  name: ServiceName,
  options: { home: string; mode: RunMode; env: Record<string, string> },
): Promise<Service> {
  const logs = join(options.home, 'logs');
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  const logFile = join(logs, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  // With VERITEE_PROFILE_DIR set, each service writes a CPU profile there when it stops.
  const profileDir = process.env['VERITEE_PROFILE_DIR'];
  const args = [
    ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`]),
    ...(options.mode === 'dist'
      ? [join(ROOT, name, 'dist', 'main.js')]
      : ['--conditions=veritee-source', '--import', 'tsx', join(ROOT, name, 'src', 'main.ts')]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, VERITEE_HOME: options.home, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(log);
  let banner = '';
  let lastError = '';
  child.stderr.on('data', (chunk: Buffer) => {
    lastError = chunk.toString('utf8').trim().split('\n').pop() ?? lastError;
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise<Service>((resolveService, reject) => {
    const onExit = (code: number | null) => {
      log.end();
      reject(new Error(`${name} exited with ${code ?? 'a signal'} before listening: ${lastError}`));
    };
    child.once('exit', onExit);
    child.stdout.on('data', (chunk: Buffer) => {
      log.write(chunk);
      const wasListening = LISTENING.test(banner);
      banner += chunk.toString('utf8');
      const match = LISTENING.exec(banner);
      if (wasListening || match === null || !banner.endsWith('\n')) return;
      child.off('exit', onExit);
      resolveService({
        name,
        url: `http://${match[1]}:${match[2]}`,
        banner: banner.trim(),
        logFile,
        process: child,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
          log.end();
        },
      });
    });
  });
}

export interface SystemOptions {
  /** State: dev PKI, verifier data, logs. */
  readonly home: string;
  readonly mode: RunMode;
  /** Fixed ports, or 0 for any free port. Default 7000 (host), 7001 (enclave), 7003 (verifier). */
  readonly ports?: { host: number; enclave: number; verifier: number };
  /** Extra environment per service. */
  readonly env?: Partial<Record<ServiceName, Record<string, string>>>;
  /**
   * Register the enclave's measurement and model with the verifier once both
   * run, as an operator would, so clients find it approved in the log. Default true.
   */
  readonly approveEnclave?: boolean;
}

export interface System {
  readonly enclave: Service;
  readonly verifier: Service;
  readonly host: Service;
  /**
   * Kills one service (SIGKILL unless told otherwise), waits `downForMs`, and
   * starts it again with the same state and port; resolves once it listens.
   */
  restart(
    name: ServiceName,
    options?: { signal?: NodeJS.Signals; downForMs?: number },
  ): Promise<Service>;
  stop(): Promise<void>;
}

const LISTEN_VARIABLE: Record<ServiceName, string> = {
  enclave: 'VERITEE_ENCLAVE_LISTEN',
  verifier: 'VERITEE_VERIFIER_LISTEN',
  host: 'VERITEE_HOST_LISTEN',
};

/**
 * Starts enclave, verifier and host, in that order: the enclave creates the
 * simulator's dev PKI on first start, which the verifier then trusts (it is
 * told to with VERITEE_ALLOW_SIMULATED=1), and the host needs both.
 */
export async function startSystem(options: SystemOptions): Promise<System> {
  const ports = options.ports ?? { host: 7000, enclave: 7001, verifier: 7003 };
  const started: Service[] = [];
  const envOf = new Map<ServiceName, Record<string, string>>();
  const stopAll = async () => {
    await Promise.all(started.reverse().map((service) => service.stop()));
  };
  const launch = async (name: ServiceName, env: Record<string, string>) => {
    envOf.set(name, env);
    const service = await startService(name, { home: options.home, mode: options.mode, env });
    started.push(service);
    return service;
  };
  try {
    const enclave = await launch('enclave', {
      VERITEE_ENCLAVE_LISTEN: `127.0.0.1:${ports.enclave}`,
      ...options.env?.enclave,
    });
    const adminToken = adminTokenOf(options.home);
    const receiptToken = secretOf(options.home, 'host-receipt-token');
    const verifier = await launch('verifier', {
      VERITEE_ADMIN_TOKEN: adminToken,
      VERITEE_RECEIPT_TOKEN_HASHES: sha256Hex(receiptToken),
      VERITEE_VERIFIER_LISTEN: `127.0.0.1:${ports.verifier}`,
      VERITEE_VERIFIER_DATA: join(options.home, 'verifier'),
      VERITEE_ALLOW_SIMULATED: '1',
      ...options.env?.verifier,
    });
    if (options.approveEnclave !== false)
      await approveEnclave(
        enclave.url,
        verifier.url,
        options.env?.verifier?.['VERITEE_ADMIN_TOKEN'] ?? adminToken,
      );
    const host = await launch('host', {
      VERITEE_HOST_LISTEN: `127.0.0.1:${ports.host}`,
      VERITEE_ENCLAVE_URL: enclave.url,
      VERITEE_VERIFIER_URL: verifier.url,
      VERITEE_RECEIPT_TOKEN: receiptToken,
      ...options.env?.host,
    });
    const services: Record<ServiceName, Service> = { enclave, verifier, host };
    return {
      get enclave() {
        return services.enclave;
      },
      get verifier() {
        return services.verifier;
      },
      get host() {
        return services.host;
      },
      async restart(name, restart = {}) {
        const old = services[name];
        old.process.kill(restart.signal ?? 'SIGKILL');
        await old.stop();
        started.splice(started.indexOf(old), 1);
        await new Promise((resolveWait) => setTimeout(resolveWait, restart.downForMs ?? 0));
        // The same port it had, even when it was first given any free one.
        const listen = `127.0.0.1:${new URL(old.url).port}`;
        services[name] = await launch(name, {
          ...envOf.get(name),
          [LISTEN_VARIABLE[name]]: listen,
        });
        return services[name];
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The verifier's admin token of a home: `<home>/admin-token`, made once
 * (owner-only), so `veritee operator --token-file` can use it too.
 */
export function adminTokenOf(home: string): string {
  return secretOf(home, 'admin-token');
}

/** SHA-256 of a token, hex: what a verifier holds of a host's receipt token. */
export function sha256Hex(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A random token kept in `<home>/<name>` (owner-only), made on first use. */
export function secretOf(home: string, name: string): string {
  const file = join(home, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const token = randomBytes(32).toString('hex');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

/**
 * Registers what the enclave runs (its SEV-SNP measurement or Nitro PCRs, tied
 * to its model) with the verifier, unless the policy in force has it already.
 */
export async function approveEnclave(enclaveUrl: string, verifierUrl: string, token: string) {
  const standing = parseEnclaveEvidence(await (await fetch(`${enclaveUrl}/v1/evidence`)).json());
  const modelHash = toHex(standing.modelHash);
  const reference =
    standing.tee === 'sev-snp'
      ? {
          tee: 'sev-snp',
          measurement: toHex(claimedMeasurement(standing.evidence)),
          modelHash,
        }
      : {
          tee: 'nitro',
          pcrs: {
            pcr0: toHex(claimedMeasurement(standing.evidence)),
          },
          modelHash,
        };
  const policies = (await (await fetch(`${verifierUrl}/v1/policies`)).json()) as {
    changes?: Array<{ action: string; reference: unknown }>;
  };
  const same = (other: unknown) => JSON.stringify(other) === JSON.stringify(reference);
  const registered = (policies.changes ?? []).reduce(
    (is, change) => (same(change.reference) ? change.action === 'register' : is),
    false,
  );
  if (registered) return;
  const response = await fetch(`${verifierUrl}/v1/admin/reference-values`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      action: 'register',
      reference,
      note: 'the simulated enclave npm start runs',
    }),
  });
  if (response.status !== 201)
    throw new Error(`the verifier refused to register the enclave (${response.status})`);
}
