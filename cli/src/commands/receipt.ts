/**
 * `veritee receipt verify <receipt-file>`: checks a receipt against a verifier
 * the relying party trusts (pinned keys or a JWKS file), never one the receipt
 * names: its signature and key lifetime, its claims, the relying party's
 * expectations, and its inclusion in that verifier's log. With --jwks,
 * --checkpoint and --proof, or a pinned verifier and files, it uses no network.
 */
import { fetchBounded } from '@veritee/http';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { ChainError, fromHex, isVeriteeError, toHex, UpstreamError } from '@veritee/attestations';
import { commitInput, hashOutput } from '@veritee/attestations/wire';
import {
  formatReceiptBundle,
  parseJwks,
  parseReceiptBundle,
  peekJwsClaims,
  type ReceiptBundle,
  verifyReceipt,
  type VerifierIdentity,
} from '@veritee/attestations/receipt';
import { veriteeHome } from '@veritee/mock/dev-pki';
import {
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  parseNoteVerifier,
  peekCheckpointSize,
} from '@veritee/attestations/tlog';
import {
  compareKeys,
  loadTrustedVerifiers,
  normalizeIssuer,
  saveTrustedVerifiers,
} from '../trusted-verifiers.js';
import { UsageError } from '../usage-error.js';
import { readInput, readInputText, readPromptFile } from '../input-file.js';
import { serviceUrl } from '../service-url.js';

export const RECEIPT_USAGE = `Usage: veritee receipt verify <receipt-file> [options]
       veritee receipt verify --bundle <file> [options]
       veritee receipt bundle <receipt-file> --out <file> [options]

Verifies a receipt (a compact JWS, or JSON holding one as "receipt") against a
verifier you trust: its signature by one of that verifier's keys while the key
was current, its claims, your expectations, and its inclusion in the
verifier's log. A receipt is never trusted for naming a verifier.

Whom to trust (one is needed):
  --issuer <url>         the verifier: its keys are fetched once and pinned in
                         $VERITEE_HOME/trusted-verifiers.json; later runs use the
                         pinned keys (offline too)
  --jwks <file>          the verifier's keys from a file (with --issuer, the
                         receipt must also name that issuer)
  (neither)              the receipt's issuer, only if it is pinned already
  --accept-new-keys      trust keys the pinned verifier added since it was pinned

Witnesses (C2SP tlog-witness), so that no one log view can be shown to you alone:
  --witness <vkey>       a witness whose cosignature counts; repeat for several
  --witnesses-required <K>  how many of them must have cosigned the checkpoint
                         (default: all given)
  --log-key <vkey>       the verifier's log key, for use with --jwks (pinned
                         verifiers keep theirs)

What to require:
  --model <hex>          a model hash the receipt must name; repeat for several
  --measurement <hex>    a measurement (SEV-SNP) or PCR0 (Nitro); repeat for several
  --require-hardware     refuse receipts for simulated evidence (the default)
  --allow-simulated      accept receipts for simulated evidence
  --max-age <seconds>    refuse a receipt issued longer ago than this
  --at <time>            verify as of this ISO 8601 time (default: now)

Offline, in one file (a Sigstore-style bundle; see docs/formats.md):
  bundle                 checks a receipt as verify does (fetching what it
                         needs from the pinned verifier), then writes the
                         receipt, its signing key, the checkpoint with its
                         cosignatures and the inclusion proof to --out <file>
  --bundle <file>        verify from a bundle, with no network. Trust comes
                         from the pinned verifier (or --jwks and --log-key),
                         never from the bundle; or from
  --key-thumbprint=<t>   the RFC 7638 SHA-256 thumbprint of the verifier key
                         you trust, matched against the bundle's key (give it
                         with "=": a thumbprint may start with "-")
  --output <file>        also check that this file holds exactly the answer
                         the receipt commits to (its SHA-256 is output_hash)
  --prompt-file <file> --salt <hex>
                         also check that the receipt commits to this prompt
                         (input_commitment = SHA-256(salt || prompt), the file
                         read as infer reads it: one trailing newline dropped)

Offline inputs, file by file:
  --checkpoint <file>    a checkpoint: a C2SP signed note (the verifier's
                         /checkpoint), a JWS, or JSON holding one as "note" or "checkpoint"
  --proof <file>         the inclusion proof as the verifier serves it ({"path": [...]})
  --json                 end with one JSON line
`;

/** A verifier's public key as a bundle holds it: the members of a P-256 JWK and its lifetime. */
function publicJwk(key: JWK): JWK {
  const { kty, crv, x, y, kid, exp } = key as JWK & { exp?: number };
  return { kty, crv, x, y, kid, ...(exp === undefined ? {} : { exp }) } as JWK;
}

/**
 * Whom to trust for a bundle, with no network: the pinned verifier the
 * bundle (or --issuer) names, or the bundle's own key when its thumbprint is
 * the one given with --key-thumbprint (its log key then only from --log-key).
 */
async function bundleIdentity(
  bundle: ReceiptBundle,
  values: { readonly issuer?: string | undefined; readonly 'key-thumbprint'?: string | undefined },
  home: string,
  logKeyFlag: { readonly logKey?: string },
): Promise<VerifierIdentity | { refused: string; detail: string }> {
  const issuer = normalizeIssuer(
    values.issuer === undefined ? bundle.issuer : serviceUrl(values.issuer, '--issuer'),
  );
  const thumbprint = values['key-thumbprint'];
  if (thumbprint !== undefined) {
    if ((await calculateJwkThumbprint(bundle.key, 'sha256')) !== thumbprint)
      return {
        refused: 'RECEIPT_ISSUER_UNTRUSTED',
        detail: "the bundle's key is not the one --key-thumbprint names",
      };
    return { issuer, jwks: { keys: [bundle.key] }, ...logKeyFlag };
  }
  const pinned = (await loadTrustedVerifiers(home)).find((entry) => entry.issuer === issuer);
  if (pinned === undefined)
    return {
      refused: 'RECEIPT_ISSUER_UNTRUSTED',
      detail: `${issuer} is not a pinned verifier; pin it (veritee receipt verify --issuer <url>), or give --jwks or --key-thumbprint`,
    };
  return { ...pinned, ...logKeyFlag };
}

function jsonOf(content: string, what: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    throw new UsageError(`the ${what} file is not JSON`);
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

/** A verifier's answer, bounded; anything but 2xx is VERIFIER_UNAVAILABLE. */
async function fetchOk(url: string | URL, maxBytes: number) {
  const response = await fetchBounded(url, {
    errorCode: 'VERIFIER_UNAVAILABLE',
    timeoutMs: 10_000,
    maxBytes,
  });
  if (!response.ok)
    throw new UpstreamError(
      'VERIFIER_UNAVAILABLE',
      `${new URL(url).origin} answered ${response.status}`,
    );
  return response;
}

async function fetchJson(url: string): Promise<unknown> {
  return (await fetchOk(url, 1024 * 1024)).json();
}

/** The log key a verifier serves at /v1/log, or undefined for a verifier from before C2SP checkpoints. */
async function fetchLogKey(issuer: string): Promise<string | undefined> {
  let answer: unknown;
  try {
    answer = await fetchJson(new URL('/v1/log', `${issuer}/`).href);
  } catch (error) {
    if (isVeriteeError(error) && /answered 404/.test(error.message)) return undefined;
    throw error;
  }
  const key = (answer as { key?: unknown }).key;
  if (typeof key !== 'string') return undefined;
  const verifier = parseNoteVerifier(key);
  if (verifier.type !== NOTE_SIGNATURE_ED25519)
    throw new UsageError(`${issuer} serves a log key that is not an Ed25519 note key`);
  return verifier.vkey;
}

/** How long to wait for the published checkpoint to cover a receipt (witnesses cosign each second). */
const CHECKPOINT_WAIT_MS = 10_000;

/**
 * The verifier's checkpoint covering log index `index`: its C2SP note when
 * its log key is pinned (the published /checkpoint, with cosignatures,
 * waited for while witnesses catch up), else its JWS.
 */
async function currentCheckpoint(
  verifier: VerifierIdentity,
  index: number,
  witnessed: boolean,
): Promise<string> {
  if (verifier.logKey === undefined) {
    const head = await fetchJson(new URL('/v1/log/checkpoint', `${verifier.issuer}/`).href);
    return jwsOf(JSON.stringify(head), 'checkpoint');
  }
  const deadline = Date.now() + CHECKPOINT_WAIT_MS;
  for (;;) {
    const checkpoint = await fetchOk(new URL('/checkpoint', `${verifier.issuer}/`), 64 * 1024);
    const note = new TextDecoder().decode(checkpoint.body);
    if (checkpointSize(note) > index || !witnessed || Date.now() > deadline) return note;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A checkpoint file: a note as served, a JWS, or JSON holding either (the note when a log key is pinned). */
function checkpointOf(content: string, preferNote: boolean): string {
  const trimmed = content.trim();
  if (!trimmed.startsWith('{')) return trimmed.includes('\n') ? content : trimmed;
  const parsed = jsonOf(trimmed, 'checkpoint') as { note?: unknown; checkpoint?: unknown };
  if (preferNote && typeof parsed.note === 'string') return parsed.note;
  return jwsOf(trimmed, 'checkpoint');
}

/** The tree size a checkpoint claims (unverified: only to ask for the right proof). */
function checkpointSize(checkpoint: string): number {
  if (checkpoint.includes('\n')) return peekCheckpointSize(checkpoint) ?? 0;
  return (peekJwsClaims(checkpoint) as { size?: number }).size ?? 0;
}

const HEX = /^(?:[0-9a-f]{2}){1,64}$/;

function hexList(values: readonly string[] | undefined, flag: string): string[] | undefined {
  if (values === undefined) return undefined;
  const lower = values.map((value) => value.toLowerCase());
  const bad = lower.find((value) => !HEX.test(value));
  if (bad !== undefined)
    throw new UsageError(`${flag} takes hex; got ${JSON.stringify(bad.slice(0, 80))}`);
  return lower;
}

/** The pinned identity of `issuer`, pinning it (or its new keys, when accepted) on the way. */
async function pinnedIdentity(
  home: string,
  issuer: string,
  kid: string | undefined,
  acceptNewKeys: boolean,
  say: (line: string) => void,
): Promise<VerifierIdentity> {
  const verifiers = await loadTrustedVerifiers(home);
  const known = verifiers.find((entry) => entry.issuer === issuer);
  const others = verifiers.filter((entry) => entry !== known);
  if (known !== undefined && known.jwks.keys.some((key) => key.kid === kid)) {
    if (known.logKey !== undefined) return known;
    // Pinned before verifiers had log keys: pin it now if the verifier answers; offline, go on without.
    const logKey = await fetchLogKey(issuer).catch(() => undefined);
    if (logKey === undefined) return known;
    say(`pinned          ${issuer}: log key ${logKey}`);
    const updated = { ...known, logKey };
    await saveTrustedVerifiers(home, [...others, updated]);
    return updated;
  }
  // First use, or a key the pin lacks: ask the verifier itself (never the receipt) for its keys.
  const fetched = parseJwks(await fetchJson(new URL('/.well-known/jwks.json', `${issuer}/`).href));
  const logKey = known?.logKey ?? (await fetchLogKey(issuer));
  if (logKey !== undefined && known?.logKey === undefined)
    say(`pinned          ${issuer}: log key ${logKey}`);
  if (known === undefined) {
    const pinned = {
      issuer,
      jwks: fetched,
      pinnedAt: new Date().toISOString(),
      ...(logKey === undefined ? {} : { logKey }),
    };
    await saveTrustedVerifiers(home, [...others, pinned]);
    for (const key of fetched.keys)
      say(
        `pinned          ${issuer}: key ${key.kid ?? ''} ${await calculateJwkThumbprint(key, 'sha256')}`,
      );
    return pinned;
  }
  const { added, narrowed } = compareKeys(known.jwks, fetched);
  if (added.length > 0 && !acceptNewKeys) {
    for (const key of added)
      say(`new key         ${key.kid ?? ''} ${await calculateJwkThumbprint(key, 'sha256')}`);
    throw new ChainError(
      'RECEIPT_ISSUER_KEYS_CHANGED',
      `${issuer} now holds ${added.length} key(s) that were not pinned; check them and rerun with --accept-new-keys`,
    );
  }
  const updated = {
    ...known,
    jwks: { keys: [...narrowed.keys, ...added] },
    ...(logKey === undefined ? {} : { logKey }),
  };
  await saveTrustedVerifiers(home, [...others, updated]);
  return updated;
}

export async function runReceipt(
  argv: readonly string[],
  write: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'verify' && verb !== 'bundle') {
    write(RECEIPT_USAGE);
    return verb === '--help' || verb === 'help' ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      jwks: { type: 'string' },
      'accept-new-keys': { type: 'boolean', default: false },
      model: { type: 'string', multiple: true },
      measurement: { type: 'string', multiple: true },
      'require-hardware': { type: 'boolean', default: false },
      'allow-simulated': { type: 'boolean', default: false },
      'max-age': { type: 'string' },
      at: { type: 'string' },
      checkpoint: { type: 'string' },
      proof: { type: 'string' },
      json: { type: 'boolean', default: false },
      witness: { type: 'string', multiple: true },
      'witnesses-required': { type: 'string' },
      'log-key': { type: 'string' },
      bundle: { type: 'string' },
      out: { type: 'string' },
      'key-thumbprint': { type: 'string' },
      output: { type: 'string' },
      'prompt-file': { type: 'string' },
      salt: { type: 'string' },
    },
  });
  if (verb === 'bundle' && (values.out === undefined || values.bundle !== undefined))
    throw new UsageError('receipt bundle <receipt-file> needs --out <file>');
  if ((values['prompt-file'] === undefined) !== (values.salt === undefined))
    throw new UsageError('--prompt-file and --salt go together');
  const salt = values.salt === undefined ? undefined : fromHex(values.salt.toLowerCase());
  if (values.salt !== undefined && salt?.byteLength !== 32)
    throw new UsageError('--salt takes the 32-byte salt in hex that infer printed');
  const witnessKeys = values.witness ?? [];
  const required =
    values['witnesses-required'] === undefined
      ? witnessKeys.length
      : Number(values['witnesses-required']);
  if (!Number.isSafeInteger(required) || required < 0 || required > witnessKeys.length)
    throw new UsageError(
      '--witnesses-required takes a count from 0 to the number of --witness keys',
    );
  for (const vkey of witnessKeys) {
    if (parseNoteVerifier(vkey).type !== NOTE_SIGNATURE_COSIGNATURE_V1)
      throw new UsageError(
        `--witness ${vkey.split('+')[0] ?? ''} is not a cosignature key (type 0x04)`,
      );
  }
  const witnesses = witnessKeys.length === 0 ? undefined : { keys: witnessKeys, required };
  const bundle =
    values.bundle === undefined
      ? undefined
      : parseReceiptBundle(await readInputText(values.bundle, 'bundle'));
  const [file] = positionals;
  if (bundle === undefined && (file === undefined || positionals.length !== 1))
    throw new UsageError('give exactly one receipt file, or --bundle <file>');
  if (bundle !== undefined && positionals.length > 0)
    throw new UsageError('give a receipt file or --bundle <file>, not both');
  if (values['require-hardware'] && values['allow-simulated'])
    throw new UsageError('--require-hardware and --allow-simulated contradict each other');
  const maxAge = values['max-age'] === undefined ? undefined : Number(values['max-age']);
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge > 0))
    throw new UsageError('--max-age takes a whole number of seconds');
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(at.getTime())) throw new UsageError('--at takes an ISO 8601 time');
  const expect = {
    allowSimulated: values['allow-simulated'],
    models: hexList(values.model, '--model'),
    measurements: hexList(values.measurement, '--measurement'),
    maxAgeSeconds: maxAge,
  };
  const receipt = bundle?.receipt ?? jwsOf(await readInputText(file ?? '', 'receipt'), 'receipt');
  const peeked = peekJwsClaims(receipt) as { iss?: unknown; log?: { index?: unknown } };
  const index = typeof peeked.log?.index === 'number' ? peeked.log.index : -1;
  const say = (line: string) => write(`${line}\n`);
  const home = veriteeHome(env);

  const logKeyFlag =
    values['log-key'] === undefined ? {} : { logKey: parseNoteVerifier(values['log-key']).vkey };
  let verifier: VerifierIdentity;
  if (bundle !== undefined && values.jwks === undefined) {
    const trusted = await bundleIdentity(bundle, values, home, logKeyFlag);
    if ('refused' in trusted) {
      write(
        `verdict         INVALID\n  ${trusted.refused}: ${trusted.detail}\n${values.json ? `${JSON.stringify({ valid: false, codes: [trusted.refused] })}\n` : ''}`,
      );
      return 1;
    }
    verifier = trusted;
  } else if (values.jwks !== undefined) {
    const jwks = parseJwks(jsonOf(await readInputText(values.jwks, 'JWKS'), 'JWKS'));
    // Keys from a file are the pin; with --issuer the receipt must name that issuer too.
    verifier = {
      issuer:
        values.issuer === undefined
          ? typeof peeked.iss === 'string'
            ? peeked.iss
            : ''
          : normalizeIssuer(serviceUrl(values.issuer, '--issuer')),
      jwks,
      ...logKeyFlag,
    };
  } else {
    const named = values.issuer ?? (typeof peeked.iss === 'string' ? peeked.iss : undefined);
    const pinned =
      named === undefined
        ? undefined
        : (await loadTrustedVerifiers(home)).find(
            (entry) => entry.issuer === normalizeIssuer(named),
          );
    if (values.issuer === undefined && pinned === undefined) {
      const code = 'RECEIPT_ISSUER_UNTRUSTED';
      write(
        `verdict         INVALID\n  ${code}: the receipt's issuer is not a pinned verifier; name the verifier you trust with --issuer <url> or --jwks <file>\n${values.json ? `${JSON.stringify({ valid: false, codes: [code] })}\n` : ''}`,
      );
      return 1;
    }
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(receipt).kid;
    } catch {
      kid = undefined;
    }
    try {
      verifier = await pinnedIdentity(
        home,
        normalizeIssuer(
          values.issuer === undefined
            ? (pinned?.issuer ?? '')
            : serviceUrl(values.issuer, '--issuer'),
        ),
        kid,
        values['accept-new-keys'],
        say,
      );
    } catch (error) {
      if (!isVeriteeError(error) || error.code !== 'RECEIPT_ISSUER_KEYS_CHANGED') throw error;
      write(
        `verdict         INVALID\n  ${error.code}: ${error.message}\n${values.json ? `${JSON.stringify({ valid: false, codes: [error.code] })}\n` : ''}`,
      );
      return 1;
    }
  }
  // What verification needs comes from the trusted verifier, never from where the receipt points.
  const checkpoint =
    bundle?.checkpoint ??
    (values.checkpoint === undefined
      ? await currentCheckpoint(verifier, index, witnesses !== undefined)
      : checkpointOf(
          await readInputText(values.checkpoint, 'checkpoint'),
          verifier.logKey !== undefined,
        ));
  let path: string[];
  if (bundle !== undefined) path = [...bundle.inclusionProof];
  else if (values.proof === undefined) {
    const size = checkpointSize(checkpoint);
    path = (
      (await fetchJson(
        new URL(`/v1/log/proofs/inclusion?index=${index}&size=${size}`, `${verifier.issuer}/`).href,
      )) as { path: string[] }
    ).path;
  } else {
    path = (jsonOf(await readInputText(values.proof, 'proof'), 'proof') as { path: string[] }).path;
  }
  try {
    const {
      claims,
      checkpoint: head,
      key,
      issuer,
    } = await verifyReceipt({
      receipt,
      verifier,
      checkpoint,
      inclusionPath: Array.isArray(path) ? path.map(String) : [],
      at,
      expect,
      witnesses,
    });
    // After the fact: the answer and the prompt the relying party holds are the ones committed to.
    if (values.output !== undefined) {
      const output = await readInput(values.output, 'output');
      if (toHex(hashOutput(output)) !== claims.output_hash)
        throw new ChainError(
          'RECEIPT_OUTPUT_MISMATCH',
          `${values.output} is not the answer the receipt commits to`,
        );
    }
    if (values['prompt-file'] !== undefined && salt !== undefined) {
      const prompt = new TextEncoder().encode(await readPromptFile(values['prompt-file']));
      if (toHex(commitInput(salt, prompt)) !== claims.input_commitment)
        throw new ChainError(
          'RECEIPT_INPUT_MISMATCH',
          'the receipt does not commit to this prompt with this salt',
        );
    }
    if (verb === 'bundle' && values.out !== undefined) {
      const signing = verifier.jwks.keys.find((candidate) => candidate.kid === key.kid);
      await writeFile(
        values.out,
        formatReceiptBundle({
          receipt,
          issuer,
          key: publicJwk(signing ?? {}),
          ...(head.form === 'note' && verifier.logKey !== undefined
            ? { logKey: verifier.logKey }
            : {}),
          checkpoint,
          inclusionProof: path,
        }),
      );
      say(`bundle          written to ${values.out}`);
    }
    write(
      [
        `receipt         ${claims.jti} (issued ${new Date(claims.iat * 1000).toISOString()})`,
        `issuer          ${issuer}, key ${key.kid} (SHA-256 thumbprint ${key.thumbprint})`,
        `tee             ${claims.tee.format}${claims.tee.simulated ? ' (simulated)' : ''}, measurement ${claims.tee.measurement}`,
        `model hash      ${claims.model_hash}`,
        `log             index ${claims.log.index} of ${head.size}, root ${head.root}`,
        ...(head.form === 'note'
          ? [
              `witnesses       ${head.cosigners.length === 0 ? 'none required' : `cosigned by ${head.cosigners.join(', ')}`}`,
            ]
          : []),
        'verdict         VALID: signature, claims and inclusion check out',
        ...(values.json
          ? [
              JSON.stringify({
                valid: true,
                id: claims.jti,
                issuer,
                key,
                simulated: claims.tee.simulated,
                model: claims.model_hash,
                measurement: claims.tee.measurement,
                log: { index: claims.log.index, size: head.size, root: head.root },
                witnesses: head.cosigners,
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
