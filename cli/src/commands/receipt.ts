/**
 * `veritee receipt verify <receipt-file>`: checks a receipt's signature, its
 * claims, and its inclusion in the verifier's log against a signed checkpoint.
 * With --jwks, --checkpoint and --proof it uses no network; otherwise it
 * fetches what is missing from the receipt's issuer.
 */
import { fetchBounded } from '@veritee/http';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isVeriteeError, UpstreamError } from '@veritee/attestations';
import { peekJwsClaims, verifyReceipt } from '@veritee/attestations/receipt';
import { UsageError } from '../usage-error.js';

export const RECEIPT_USAGE = `Usage: veritee receipt verify <receipt-file> [options]

Verifies a receipt (a compact JWS, or JSON holding one as "receipt"): its
signature, its claims, and its inclusion in the verifier's log.

Options:
  --jwks <file>          the verifier's JWKS (default: fetched from the receipt's issuer)
  --checkpoint <file>    a signed checkpoint (JWS, or JSON holding one as "checkpoint")
  --proof <file>         the inclusion proof as the verifier serves it ({"path": [...]})
  --json                 end with one JSON line
`;

async function text(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the ${what} file ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/** A JWS given bare or inside a JSON object under `field`. */
function jwsOf(content: string, field: string): string {
  const trimmed = content.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  const value = (JSON.parse(trimmed) as Record<string, unknown>)[field];
  if (typeof value !== 'string') throw new UsageError(`the JSON holds no "${field}"`);
  return value;
}

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetchBounded(url, {
    errorCode: 'VERIFIER_UNAVAILABLE',
    timeoutMs: 10_000,
    maxBytes: 1024 * 1024,
  });
  if (!response.ok)
    throw new UpstreamError(
      'VERIFIER_UNAVAILABLE',
      `${new URL(url).origin} answered ${response.status}`,
    );
  return response.json();
}

export async function runReceipt(
  argv: readonly string[],
  write: (text: string) => void,
): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'verify') {
    write(RECEIPT_USAGE);
    return verb === '--help' || verb === 'help' ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      jwks: { type: 'string' },
      checkpoint: { type: 'string' },
      proof: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1)
    throw new UsageError('give exactly one receipt file');
  const receipt = jwsOf(await text(file, 'receipt'), 'receipt');
  const peeked = peekJwsClaims(receipt) as { iss?: string; log?: { index?: number } };
  const issuer = peeked.iss ?? '';
  const index = peeked.log?.index ?? -1;
  const jwks: unknown =
    values.jwks === undefined
      ? await fetchJson(new URL('/.well-known/jwks.json', issuer).href)
      : JSON.parse(await text(values.jwks, 'JWKS'));
  const checkpoint =
    values.checkpoint === undefined
      ? jwsOf(
          JSON.stringify(await fetchJson(new URL('/v1/log/checkpoint', issuer).href)),
          'checkpoint',
        )
      : jwsOf(await text(values.checkpoint, 'checkpoint'), 'checkpoint');
  let path: string[];
  if (values.proof === undefined) {
    const size = (peekJwsClaims(checkpoint) as { size?: number }).size ?? 0;
    path = (
      (await fetchJson(
        new URL(`/v1/log/proofs/inclusion?index=${index}&size=${size}`, issuer).href,
      )) as { path: string[] }
    ).path;
  } else {
    path = (JSON.parse(await text(values.proof, 'proof')) as { path: string[] }).path;
  }
  try {
    const { claims, checkpoint: head } = await verifyReceipt({
      receipt,
      jwks: jwks as Parameters<typeof verifyReceipt>[0]['jwks'],
      checkpoint,
      inclusionPath: path,
    });
    write(
      [
        `receipt         ${claims.jti} (issued ${new Date(claims.iat * 1000).toISOString()} by ${claims.iss})`,
        `tee             ${claims.tee.format}${claims.tee.simulated ? ' (simulated)' : ''}, measurement ${claims.tee.measurement}`,
        `model hash      ${claims.model_hash}`,
        `log             index ${claims.log.index} of ${head.size}, root ${head.root}`,
        'verdict         VALID: signature, claims and inclusion check out',
        ...(values.json
          ? [
              JSON.stringify({
                valid: true,
                id: claims.jti,
                simulated: claims.tee.simulated,
                log: { index: claims.log.index, size: head.size, root: head.root },
              }),
            ]
          : []),
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!isVeriteeError(error)) throw error;
    write(
      `verdict         INVALID\n  ${error.code}: ${error.message}\n${values.json ? `${JSON.stringify({ valid: false, codes: [error.code] })}\n` : ''}`,
    );
    return 1;
  }
}
