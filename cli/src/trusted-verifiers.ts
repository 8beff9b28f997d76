/**
 * The verifiers a relying party trusts, pinned on this machine:
 * `$VERITEE_HOME/trusted-verifiers.json` (owner-only), format
 * `veritee.trusted-verifiers/v1`. A verifier's keys are fetched once, when it
 * is first pinned; a key it adds later is trusted only once accepted
 * explicitly. A retirement time (`exp`) it adds to a pinned key is taken at
 * once: it only narrows what the key vouches for. Its log's note key
 * (`logKey`, which signs its C2SP checkpoints) is pinned on first use and
 * never replaced: a log's key does not change.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { ConfigError } from '@veritee/attestations';
import { parseJwks, type VerifierIdentity } from '@veritee/attestations/receipt';
import { parseNoteVerifier } from '@veritee/attestations/tlog';

export const TRUSTED_VERIFIERS_FORMAT = 'veritee.trusted-verifiers/v1';

export interface PinnedVerifier extends VerifierIdentity {
  /** When it was first pinned, ISO 8601. */
  readonly pinnedAt: string;
}

export function trustFilePath(home: string): string {
  return join(home, 'trusted-verifiers.json');
}

/** The issuer as pinned: the URL without a trailing slash. */
export function normalizeIssuer(url: string): string {
  return url.replace(/\/+$/, '');
}

/** @throws ConfigError CONFIG_INVALID when the file exists but is not a trust file */
export async function loadTrustedVerifiers(home: string): Promise<PinnedVerifier[]> {
  let text: string;
  try {
    text = await readFile(trustFilePath(home), 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed = JSON.parse(text) as { format?: unknown; verifiers?: unknown };
    if (parsed.format !== TRUSTED_VERIFIERS_FORMAT || !Array.isArray(parsed.verifiers))
      throw new Error('not a trust file');
    return parsed.verifiers.map(
      (entry: { issuer?: unknown; jwks?: unknown; pinnedAt?: unknown; logKey?: unknown }) => {
        if (typeof entry.issuer !== 'string' || typeof entry.pinnedAt !== 'string')
          throw new Error('an entry lacks its issuer');
        if (entry.logKey !== undefined && typeof entry.logKey !== 'string')
          throw new Error('a log key is a note verifier key');
        return {
          issuer: entry.issuer,
          jwks: parseJwks(entry.jwks),
          pinnedAt: entry.pinnedAt,
          ...(entry.logKey === undefined ? {} : { logKey: parseNoteVerifier(entry.logKey).vkey }),
        };
      },
    );
  } catch (error) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${trustFilePath(home)} is not a ${TRUSTED_VERIFIERS_FORMAT} file; fix or remove it`,
      { cause: error },
    );
  }
}

/** Writes the trust file whole (write, then rename), owner-only. */
export async function saveTrustedVerifiers(
  home: string,
  verifiers: readonly PinnedVerifier[],
): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = trustFilePath(home);
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(
    temporary,
    `${JSON.stringify({ format: TRUSTED_VERIFIERS_FORMAT, verifiers }, null, 2)}\n`,
    { mode: 0o600 },
  );
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** How a freshly fetched JWKS differs from the pinned one. */
export interface KeyChange {
  /** Keys it holds that were never pinned. */
  readonly added: readonly JWK[];
  /** The pinned keys with every retirement time the fetched JWKS adds. */
  readonly narrowed: JSONWebKeySet;
}

export function compareKeys(pinned: JSONWebKeySet, fetched: JSONWebKeySet): KeyChange {
  const byKid = new Map(fetched.keys.map((key) => [key.kid, key]));
  const narrowed = pinned.keys.map((key) => {
    const now = byKid.get(key.kid) as (JWK & { exp?: number }) | undefined;
    const exp = (key as { exp?: number }).exp;
    // Same key material only; an earlier retirement wins.
    if (now === undefined || now.x !== key.x || now.y !== key.y || now.exp === undefined)
      return key;
    return { ...key, exp: exp === undefined ? now.exp : Math.min(exp, now.exp) };
  });
  const pinnedKids = new Set(pinned.keys.map((key) => key.kid));
  return {
    added: fetched.keys.filter((key) => !pinnedKids.has(key.kid)),
    narrowed: { keys: narrowed },
  };
}
