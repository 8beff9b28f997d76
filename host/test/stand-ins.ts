/**
 * Stand-ins for the enclave and the verifier on real HTTP, and a host wired
 * to them in-process, so the host's relay is tested over the wire it uses.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { enclaveAnswerToJson } from '@veritee/attestations/wire';
import { createAdmission, createLogger } from '@veritee/service';
import { createApp, createMetrics, createRelay, createUpstream } from '../src/index.js';

export type Handler = (
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
) => void | Promise<void>;

/** A server whose behaviour the test sets; it records every body it received. */
export async function startStandIn(handler: Handler) {
  const received: Buffer[] = [];
  const state = { handler };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.byteLength > 0) received.push(body);
      void state.handler(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    set: (next: Handler) => {
      state.handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An enclave answer the host can parse: it reads only public shapes. */
export function enclaveAnswer(): Record<string, unknown> {
  return enclaveAnswerToJson({
    sealed: randomBytes(64),
    evidence: randomBytes(1184),
    binding: {
      modelHash: randomBytes(32),
      inputCommitment: randomBytes(32),
      outputHash: randomBytes(32),
      nonce: randomBytes(32),
      enclaveKey: randomBytes(32),
    },
  });
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response
    .writeHead(status, {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    })
    .end(JSON.stringify(body));
}

export async function startHost(options: {
  enclave: string;
  verifier?: string;
  maxInFlight?: number;
  maxQueue?: number;
  maxBodyBytes?: number;
  timeoutMs?: number;
}) {
  const lines: string[] = [];
  const admission = createAdmission({
    maxInFlight: options.maxInFlight ?? 8,
    maxQueue: options.maxQueue ?? 8,
    busyCode: 'HOST_BUSY',
  });
  const metrics = createMetrics(admission);
  const timeoutMs = options.timeoutMs ?? 5000;
  const enclave = createUpstream({ name: 'enclave', url: options.enclave, timeoutMs });
  const verifier =
    options.verifier === undefined
      ? undefined
      : createUpstream({ name: 'verifier', url: options.verifier, timeoutMs });
  const relay = createRelay({
    enclave,
    verifier,
    onReceipt: (outcome) => metrics.receipt(outcome),
  });
  const app = createApp({
    relay,
    logger: createLogger({ service: 'host', write: (line) => void lines.push(line) }),
    metrics,
    admission,
    maxBodyBytes: options.maxBodyBytes ?? 4096,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    lines,
    close: () =>
      new Promise<void>((resolve) => {
        enclave.close();
        verifier?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
