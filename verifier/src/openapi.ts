/** The verifier's HTTP API as OpenAPI 3.1 (served at GET /openapi.json; checked against its routes). */
import { readFileSync } from 'node:fs';
import { openApiDocument, SKELETON_PATHS, type Operation, type Parameter } from '@veritee/service';
import { RECEIPT_BATCH_MAX_ITEMS } from '@veritee/attestations/wire';

const query = (name: string, description: string, schema?: Record<string, unknown>): Parameter => ({
  name,
  in: 'query',
  description,
  ...(schema === undefined ? {} : { schema }),
});
const path = (name: string, description: string): Parameter => ({ name, in: 'path', description });
const integer = { type: 'integer', minimum: 0 };
const json = (schema: Record<string, unknown>) => ({ type: 'application/json', schema });

const PATHS: Record<string, Record<string, Operation>> = {
  ...SKELETON_PATHS,
  '/': {
    get: {
      summary:
        'The log’s web page: check a receipt in the browser, browse entries and approved images',
      ok: { type: 'text/html' },
    },
  },
  '/web/app.js': { get: { summary: 'The web page’s script', ok: { type: 'text/javascript' } } },
  '/v1/verify': {
    post: {
      summary: 'Appraise evidence; answers an EAR attestation result (eat+jwt)',
      body: json({
        type: 'object',
        required: ['evidence'],
        properties: {
          evidence: { type: 'string', contentEncoding: 'base64' },
          nonce: { type: 'string', description: '8 to 64 bytes, lower-case hex (eat_nonce)' },
        },
      }),
      refusals: [400, 413, 429],
    },
  },
  '/v1/receipts': {
    post: {
      summary: 'Issue a receipt for attested evidence and its binding (hosts holding a token)',
      bearer: true,
      body: json({
        type: 'object',
        required: ['evidence', 'binding'],
        properties: {
          evidence: { type: 'string', contentEncoding: 'base64' },
          binding: { type: 'object' },
          inclusion: { type: 'object', description: 'the batch inclusion, for batched quotes' },
        },
      }),
      ok: {
        status: 201,
        description:
          'the receipt, logged durably: { id, receipt, log: { index, inclusion: { size, path, note } } }, with the signed checkpoint covering it and its inclusion path',
      },
      refusals: [400, 401, 413, 422, 429, 503],
    },
  },
  '/v1/receipts/batch': {
    post: {
      summary:
        "Issue the receipts of one batched quote: its evidence once, each answer's binding and inclusion (hosts holding a token)",
      bearer: true,
      body: json({
        type: 'object',
        required: ['evidence', 'items'],
        properties: {
          evidence: { type: 'string', contentEncoding: 'base64' },
          items: {
            type: 'array',
            minItems: 1,
            maxItems: RECEIPT_BATCH_MAX_ITEMS,
            items: {
              type: 'object',
              required: ['binding'],
              properties: { binding: { type: 'object' }, inclusion: { type: 'object' } },
            },
          },
        },
      }),
      ok: {
        status: 201,
        description:
          "{ receipts: [...] }, one per item in its order: the receipt as POST /v1/receipts answers it, or { problem } when that item's own binding was refused (4xx); a refused quote or a failing log refuses the whole request",
      },
      refusals: [400, 401, 413, 422, 429, 503],
    },
  },
  '/v1/receipts/{id}': {
    get: { summary: 'A receipt by id', parameters: [path('id', 'receipt id')], refusals: [404] },
  },
  '/v1/log': { get: { summary: "The log's origin, note key and witnesses" } },
  '/v1/log/checkpoint': {
    get: { summary: 'The current tree head: C2SP note and JWS checkpoint' },
  },
  '/v1/log/entries': {
    get: {
      summary: 'Entries by position, with leaf hashes and signed statements',
      parameters: [
        query('start', 'first index (default 0)', integer),
        query('count', 'how many, 1 to 100 (default 20)', integer),
      ],
      refusals: [400],
    },
  },
  '/v1/log/search': {
    get: {
      summary: 'Statements by model, measurement, type, receipt id or time, newest first',
      parameters: [
        query('model', 'model hash, hex'),
        query('measurement', 'SEV-SNP measurement or Nitro PCR0, hex'),
        query('type', 'format tag, e.g. veritee.policy-change/v1'),
        query('receipt', 'a receipt id'),
        query('since', 'issued at or after (ISO 8601 or seconds)'),
        query('until', 'issued before (ISO 8601 or seconds)'),
        query('before', 'only entries before this index (the paging cursor `next`)', integer),
        query('limit', '1 to 100 (default 20)', integer),
      ],
      refusals: [400],
    },
  },
  '/v1/log/proofs/inclusion': {
    get: {
      summary: 'RFC 9162 inclusion proof',
      parameters: [query('index', 'leaf index', integer), query('size', 'tree size', integer)],
      refusals: [400],
    },
  },
  '/v1/log/proofs/consistency': {
    get: {
      summary: 'RFC 9162 consistency proof',
      parameters: [query('first', 'older size', integer), query('second', 'newer size', integer)],
      refusals: [400],
    },
  },
  '/checkpoint': {
    get: { summary: 'C2SP tlog-tiles checkpoint with cosignatures', ok: { type: 'text/plain' } },
  },
  '/tile/{level}/{index}': {
    get: {
      summary: 'C2SP tlog-tiles hash tile (a partial one as {index}.p/{width})',
      parameters: [path('level', 'tile level'), path('index', 'tile index, C2SP path form')],
      ok: { type: 'application/octet-stream' },
      refusals: [400, 404],
    },
  },
  '/tile/entries/{index}': {
    get: {
      summary: 'C2SP tlog-tiles entry bundle',
      parameters: [path('index', 'tile index, C2SP path form')],
      ok: { type: 'application/octet-stream' },
      refusals: [400, 404],
    },
  },
  '/v1/policies': {
    get: { summary: 'The policy in force and every logged change', refusals: [404] },
  },
  '/v1/admin/reference-values': {
    post: {
      summary: 'Register or retire a reference value (a new policy version)',
      bearer: true,
      body: json({ type: 'object', required: ['action', 'reference'] }),
      ok: { status: 201 },
      refusals: [400, 401, 404, 409],
    },
  },
  '/v1/keys/challenge': {
    post: { summary: 'A single-use key release challenge (SEV-SNP key broker)', refusals: [404] },
  },
  '/v1/keys/release': {
    post: {
      summary: 'Release a KMS-wrapped data key to SEV-SNP evidence that passes policy',
      body: json({ type: 'object' }),
      refusals: [400, 403, 404, 422, 429, 503],
    },
  },
  '/.well-known/jwks.json': { get: { summary: 'Signing keys, current and retired (with exp)' } },
  '/v1/collateral/{kind}/v1/{product}/{item}': {
    get: {
      summary: 'SEV-SNP collateral under AMD KDS paths (VCEK, cert_chain, crl)',
      parameters: [
        path('kind', 'vcek or vlek'),
        path('product', 'Milan, Genoa, Turin...'),
        path('item', 'hwid, cert_chain or crl'),
      ],
      ok: { type: 'application/octet-stream' },
      refusals: [400, 404, 502],
    },
  },
};

/** Its package's version, which the description names. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export function verifierOpenApi(version = VERSION): Record<string, unknown> {
  return openApiDocument({
    title: 'Veritee verifier',
    version,
    description:
      'Appraises evidence, issues signed receipts into an append-only RFC 9162 log that anyone can browse, prove and witness (C2SP checkpoints and tiles).',
    paths: PATHS,
  });
}
