/**
 * `veritee proxy`: the OpenAI REST API on 127.0.0.1 for existing OpenAI code
 * (`baseURL: http://127.0.0.1:7080/v1`), each request sealed to the attested
 * enclave and each answer checked by the client SDK before it is returned
 * (`openAiHandler` in @veritee/client). Loopback only: the checks happen in
 * this process, for the programs of this machine.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { openAiHandler } from '@veritee/client';
import { UsageError } from '../usage-error.js';
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_USAGE,
  clientFromFlags,
  type ClientFlagDeps,
} from '../client-flags.js';

export const PROXY_USAGE = `Usage: veritee proxy [options]

Serves the OpenAI API on this machine's loopback for what the deployment runs:
GET /v1/models; POST /v1/moderations for the bundled classifier (its
injection, jailbreak and malicious heads as categories); POST /v1/embeddings
for an embedding model; POST /v1/chat/completions for a generative model
(greedy, whole answers, no streaming). Every request is
sealed to the attested enclave; every answer's quote, binding, receipt and log
inclusion are checked before it is returned, with a "veritee" object and an
x-veritee-receipt header. A refusal is an OpenAI-shaped error whose code is
Veritee's. Point existing code at it: new OpenAI({ baseURL: '<url>/v1' }).

Options:
  --listen <host:port>  default 127.0.0.1:7080 (loopback addresses only)
  --model-id <id>       the model name answers carry and requests may give
                        (default veritee-guardrail)
  --threshold <category=score>
                        flag a category at or above this score (default 0.5);
                        repeat for several
${CLIENT_FLAGS_USAGE}
`;

export interface ProxyDeps extends ClientFlagDeps {
  /** Resolves when the proxy should stop (SIGINT, SIGTERM). */
  readonly stopped: Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** The node:http request as a WHATWG Request, its body read up to the bound. */
async function toRequest(incoming: IncomingMessage, base: string): Promise<Request> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).byteLength;
    // One byte past the bound is enough for the handler to refuse it as too large.
    if (size > MAX_BODY_BYTES + 1) break;
    chunks.push(chunk as Buffer);
  }
  const method = incoming.method ?? 'GET';
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers))
    if (typeof value === 'string' && name !== 'content-length') headers.set(name, value);
  return new Request(new URL(incoming.url ?? '/', base), {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
  });
}

async function send(response: ServerResponse, answer: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  response.writeHead(answer.status, {
    ...Object.fromEntries(answer.headers),
    'content-length': body.byteLength,
    'cache-control': 'no-store',
  });
  response.end(body);
}

export async function runProxy(
  argv: readonly string[],
  deps: ProxyDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...CLIENT_FLAGS,
      listen: { type: 'string', default: '127.0.0.1:7080' },
      threshold: { type: 'string', multiple: true },
      'model-id': { type: 'string', default: 'veritee-guardrail' },
    },
  });
  if (positionals.length > 0) throw new UsageError('proxy takes no arguments');
  const match = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\]):(\d{1,5})$/.exec(values.listen);
  if (match === null)
    throw new UsageError('--listen takes a loopback host:port (127.0.0.1:7080, localhost:0)');
  const thresholds: Record<string, number> = {};
  for (const entry of values.threshold ?? []) {
    const [category = '', text = ''] = entry.split('=');
    const score = Number(text);
    if (!/^[a-z_]{1,64}$/.test(category) || text === '' || !(score >= 0 && score <= 1))
      throw new UsageError('--threshold takes <category>=<score from 0 to 1>');
    thresholds[category] = score;
  }
  const { client, host } = await clientFromFlags(values, deps);
  if (!/^[\w.:-]{1,128}$/.test(values['model-id']))
    throw new UsageError('--model-id takes a name of letters, digits, ".", ":", "_" and "-"');
  const handle = openAiHandler({ client, thresholds, modelId: values['model-id'] });
  const server = createServer((incoming, response) => {
    toRequest(incoming, 'http://127.0.0.1')
      .then(handle)
      .then((answer) => send(response, answer))
      .catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
  });
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(match[2]), match[1]!.replace(/^\[|\]$/g, ''), resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  write(
    `veritee proxy listening on http://${match[1] ?? '127.0.0.1'}:${port} (OpenAI API at /v1), relaying to ${host}\n`,
  );
  await deps.stopped;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return 0;
}
