/** The host's HTTP API as OpenAPI 3.1 (served at GET /openapi.json; checked against its routes). */
import { readFileSync } from 'node:fs';
import { openApiDocument, SKELETON_PATHS } from '@veritee/service';
import {
  OHTTP_KEYS_TYPE,
  OHTTP_REQUEST_TYPE,
  OHTTP_RESPONSE_TYPE,
} from '@veritee/attestations/wire';

/** Its package's version, which the description names. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export function hostOpenApi(version = VERSION): Record<string, unknown> {
  return openApiDocument({
    title: 'Veritee host',
    version,
    description:
      'The untrusted relay: forwards sealed requests to the enclave and attaches receipts; it never sees a prompt in clear.',
    paths: {
      ...SKELETON_PATHS,
      '/v1/attestation': {
        get: { summary: "The enclave's standing evidence, as it gave it", refusals: [502] },
      },
      '/v1/ohttp-keys': {
        get: {
          summary: "The enclave's RFC 9458 key configuration",
          ok: { type: OHTTP_KEYS_TYPE },
          refusals: [502],
        },
      },
      '/v1/infer': {
        post: {
          summary:
            'An Oblivious HTTP request for the enclave; the sealed answer comes back with its receipt (JSON when Accept asks for it)',
          body: { type: OHTTP_REQUEST_TYPE, schema: { type: 'string', contentEncoding: 'binary' } },
          ok: { type: OHTTP_RESPONSE_TYPE },
          refusals: [400, 413, 415, 429, 502],
        },
      },
    },
  });
}
