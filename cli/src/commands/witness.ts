/**
 * `veritee witness`: runs a transparency-log witness (C2SP tlog-witness) for
 * the logs it is told to follow: it cosigns each checkpoint that is
 * consistent with the last one it cosigned, and refuses forks and rollbacks.
 * Its Ed25519 key and its state (SQLite) live in its data directory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { isVeriteeError } from '@veritee/attestations';
import {
  formatNoteSignerKey,
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  parseNoteSignerKey,
  parseNoteVerifier,
  type NoteSigner,
  type NoteVerifier,
} from '@veritee/attestations/tlog';
import {
  createBoundedServer,
  DEFAULT_SERVER_LIMITS,
  readBoundedBody,
  tcpListen,
} from '@veritee/service';
import { UsageError } from '../usage-error.js';
import { addCheckpoint } from '../witness/add-checkpoint.js';
import { openWitnessState } from '../witness/state.js';

export const WITNESS_USAGE = `Usage: veritee witness --name <name> --log <vkey> [--log <vkey> ...] [options]

Runs a witness: POST /add-checkpoint (C2SP tlog-witness) cosigns a log's
checkpoint when it is consistent with the last one this witness cosigned.

  --name <name>        the witness's key name, e.g. witness.example.com/w1
                       (fixed when its key is made)
  --log <vkey>         a log to follow: its note verifier key (the verifier
                       prints it as "log key"); its name is the log's origin
  --listen <host:port> where to listen (default 127.0.0.1:7380)
  --data <dir>         key and state (default $VERITEE_HOME/witness)
`;

/** Largest add-checkpoint body: 63 proof lines and a checkpoint with its signatures. */
const MAX_BODY_BYTES = 128 * 1024;

export interface WitnessDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => Date;
  /** Resolves when the witness should stop (a signal). */
  readonly stopped: Promise<void>;
}

export async function runWitness(
  argv: readonly string[],
  deps: WitnessDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      name: { type: 'string' },
      log: { type: 'string', multiple: true },
      listen: { type: 'string', default: '127.0.0.1:7380' },
      data: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    write(WITNESS_USAGE);
    return 0;
  }
  if (values.name === undefined || (values.log ?? []).length === 0)
    throw new UsageError('veritee witness needs --name and at least one --log');
  const logs = new Map<string, NoteVerifier[]>();
  for (const vkey of values.log ?? []) {
    const verifier = parseNoteVerifier(vkey);
    if (verifier.type !== NOTE_SIGNATURE_ED25519)
      throw new UsageError(`--log ${verifier.name}: a log key signs with Ed25519 (type 0x01)`);
    logs.set(verifier.name, [...(logs.get(verifier.name) ?? []), verifier]);
  }
  const listen = tcpListen(values.listen, '--listen');
  const data = values.data ?? join(deps.env['VERITEE_HOME'] ?? '.', 'witness');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  const key = witnessKey(join(data, 'witness.key'), values.name);
  const state = openWitnessState(join(data, 'state.db'));

  const server = createBoundedServer(DEFAULT_SERVER_LIMITS, (request, response) => {
    handle(request, response).catch(() => send(response, 500, 'text/plain', 'internal error\n'));
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.url !== '/add-checkpoint' || request.method !== 'POST') {
      send(response, 404, 'text/plain', 'POST /add-checkpoint\n');
      return;
    }
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(
        await readBoundedBody(request, MAX_BODY_BYTES),
      );
    } catch (error) {
      send(
        response,
        isVeriteeError(error) && error.code === 'REQUEST_TOO_LARGE' ? 413 : 400,
        'text/plain',
        'unreadable body\n',
      );
      return;
    }
    const answer = state.decide(() =>
      addCheckpoint({
        body,
        logs,
        lastCosigned: (origin) => state.lastCosigned(origin),
        key,
        now: deps.now(),
      }),
    );
    send(response, answer.status, answer.contentType, answer.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : listen.port;
  write(
    [
      `veritee witness listening on http://${listen.host}:${port}`,
      `  key   ${key.vkey}`,
      ...[...logs.keys()].map((origin) => `  log   ${origin}`),
      `  state ${join(data, 'state.db')}`,
      '',
    ].join('\n'),
  );
  await deps.stopped;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  state.close();
  return 0;
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

/** The witness's cosigning key: made on first run, then read back; its name never changes. */
function witnessKey(file: string, name: string): NoteSigner {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const signer = noteSignerFromSeed(name, NOTE_SIGNATURE_COSIGNATURE_V1, randomBytes(32));
    writeFileSync(file, `${formatNoteSignerKey(signer)}\n`, { mode: 0o600, flag: 'wx' });
    return signer;
  }
  const signer = parseNoteSignerKey(text);
  if (signer.name !== name)
    throw new UsageError(`this witness's key is named ${signer.name}, not ${name}`);
  return signer;
}
