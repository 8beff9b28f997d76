/**
 * Offline receipt verification for relying parties (the one jose adapter of
 * attestations/), against a verifier identity the relying party pinned: its
 * issuer and its keys, never whatever the receipt names. In order: the
 * signing key is one of the pinned keys, the signature verifies, every claim
 * is present and well formed, the issuer is the pinned one, the receipt was
 * issued while its key was current and not in the future, it meets the
 * relying party's expectations (simulated or not, model, measurement, age),
 * its log leaf is its own claims, and the leaf is in the tree of a checkpoint
 * the same verifier signed. No I/O, no clock: the caller brings the JWKS,
 * checkpoint, proof and time.
 */
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { ChainError, EvidenceError } from '../errors.js';
import { fromHex } from '../bytes.js';
import { verifyInclusion } from '../merkle/merkle.js';
import { MAX_CLOCK_SKEW_MS } from '../policy/evaluate.js';
import {
  CHECKPOINT_HEADER_TYPE,
  CHECKPOINT_TYPE,
  RECEIPT_HEADER_TYPE,
  RECEIPT_TYPE,
  RECEIPT_TYPE_V1,
  type CheckpointClaims,
  type ReceiptClaims,
} from './receipt.js';
import { statementLeafHash, type LogPosition } from './statement.js';
import { verifyEs256Compact } from './jws-es256.js';
import { createMemo } from '../memo.js';
import {
  openNote,
  parseNoteVerifier,
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
} from '../tlog/note.js';
import { parseCheckpoint } from '../tlog/checkpoint.js';
import { applyChange, type Approvals } from './approvals.js';
import {
  parseReferenceValue,
  POLICY_CHANGE_HEADER_TYPE,
  POLICY_CHANGE_TYPE,
  type PolicyChangeClaims,
} from './policy-change.js';

/** A verifier as a relying party pins it. */
export interface VerifierIdentity {
  /** The `iss` its statements carry, exactly (its base URL). */
  readonly issuer: string;
  /**
   * Its public keys. A key with `exp` (seconds since the epoch, as OpenID
   * Federation's historical keys) was retired then: it vouches only for what
   * it signed before.
   */
  readonly jwks: JSONWebKeySet;
  /**
   * Its log's note verifier key (`<origin>+<key ID>+<key>`, C2SP signed-note),
   * which signs its C2SP checkpoints. Unset: only its JWS checkpoints verify.
   */
  readonly logKey?: string | undefined;
}

/** What a relying party requires of a receipt beyond its authenticity. */
export interface ReceiptExpectations {
  /** Accept receipts for simulated evidence. Default false: hardware only. */
  readonly allowSimulated?: boolean | undefined;
  /** Model hashes (hex), one of which the receipt must name. Unset: any model. */
  readonly models?: readonly string[] | undefined;
  /** Measurements (SEV-SNP MEASUREMENT or Nitro PCR0, hex), one of which it must name. Unset: any. */
  readonly measurements?: readonly string[] | undefined;
  /** The receipt must have been issued at most this long before `at`. Unset: any age. */
  readonly maxAgeSeconds?: number | undefined;
}

/** The key that vouched for a receipt. */
export interface VouchingKey {
  readonly kid: string;
  /** RFC 7638 SHA-256 JWK thumbprint, base64url. */
  readonly thumbprint: string;
}

/** Witnesses a relying party requires: their cosignature keys, and how many must have cosigned. */
export interface WitnessRequirement {
  /** Cosignature verifier keys (type 0x04, C2SP tlog-cosignature). */
  readonly keys: readonly string[];
  readonly required: number;
}

/** The tree head a statement was checked against. */
export interface VerifiedCheckpoint {
  readonly size: number;
  /** MTH of the first `size` entries, hex. */
  readonly root: string;
  /** `note`: a C2SP checkpoint signed by the log's note key; `jws`: `veritee.checkpoint/v1`. */
  readonly form: 'note' | 'jws';
  /** The required witnesses whose cosignatures verified. */
  readonly cosigners: readonly string[];
}

export interface ReceiptCheck {
  readonly claims: ReceiptClaims;
  readonly checkpoint: VerifiedCheckpoint;
  readonly issuer: string;
  readonly key: VouchingKey;
}

const MAX_CLOCK_SKEW_S = MAX_CLOCK_SKEW_MS / 1000;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

interface Verified {
  readonly payload: unknown;
  readonly key: JWK;
  readonly kid: string;
}

/** The pinned key a JWS names, or a refusal: an unknown key is an unknown signer. */
function pinnedKey(jws: string, jwks: JSONWebKeySet, what: string): { key: JWK; kid: string } {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(jws).kid;
  } catch (error) {
    throw new EvidenceError('RECEIPT_MALFORMED', `the ${what} is not a compact JWS`, {
      cause: error,
    });
  }
  const key =
    typeof kid === 'string' ? jwks.keys.find((candidate) => candidate.kid === kid) : undefined;
  if (key === undefined || typeof kid !== 'string')
    throw new ChainError(
      'RECEIPT_ISSUER_UNTRUSTED',
      `the ${what} is signed by a key the pinned verifier does not hold`,
    );
  return { key, kid };
}

/** RFC 7638 thumbprints of pinned keys, computed once each (they are few and long-lived). */
const thumbprints = createMemo<Promise<string>>(256);
const thumbprintOf = (key: JWK) =>
  thumbprints.remember(`${key.kty}.${key.crv}.${key.x}.${key.y}`, () =>
    calculateJwkThumbprint(key, 'sha256'),
  );

function verifyJws(
  jws: string,
  jwks: JSONWebKeySet,
  typ: string | readonly string[],
  what: string,
): Verified & { readonly typ: string } {
  const compact = jws.trim();
  const { key, kid } = pinnedKey(compact, jwks, what);
  let result: ReturnType<typeof verifyEs256Compact>;
  try {
    // Only the one pinned key the header names, and only ES256: no algorithm the signer did not use.
    result = verifyEs256Compact(compact, key);
  } catch (error) {
    throw new ChainError(
      'RECEIPT_BAD_SIGNATURE',
      `the ${what}'s signature does not verify with the pinned key ${kid.slice(0, 64)}`,
      { cause: error },
    );
  }
  const header = result.protectedHeader['typ'];
  if (typeof header !== 'string' || ![typ].flat().includes(header))
    throw new EvidenceError(
      'RECEIPT_MALFORMED',
      `the ${what} is not a ${[typ].flat().join(' or ')}`,
    );
  try {
    return {
      payload: JSON.parse(new TextDecoder().decode(result.payload)),
      key,
      kid,
      typ: header,
    };
  } catch {
    throw new EvidenceError('RECEIPT_MALFORMED', `the ${what}'s payload is not JSON`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isHex = (value: unknown, pattern = HEX): value is string =>
  typeof value === 'string' && value.length <= 2048 && pattern.test(value);
const isTime = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

/** Every claim present and of its type, or RECEIPT_MALFORMED naming the first that is not. */
function receiptClaims(value: unknown, headerType: string): ReceiptClaims {
  const claims = isObject(value) ? value : {};
  const tee = isObject(claims['tee']) ? claims['tee'] : {};
  const policy = isObject(claims['policy']) ? claims['policy'] : {};
  const log = isObject(claims['log']) ? claims['log'] : {};
  const checks: Array<[string, boolean]> = [
    // A v2 receipt is signed with the RFC 8725 header type; a v1 receipt with its own tag.
    [
      'typ',
      headerType === RECEIPT_HEADER_TYPE
        ? claims['typ'] === RECEIPT_TYPE
        : claims['typ'] === RECEIPT_TYPE_V1,
    ],
    ['iss', typeof claims['iss'] === 'string'],
    ['iat', isTime(claims['iat'])],
    ['jti', typeof claims['jti'] === 'string' && claims['jti'].length <= 256],
    ['tee.format', tee['format'] === 'sev-snp' || tee['format'] === 'nitro'],
    ['tee.measurement', isHex(tee['measurement'])],
    ['tee.simulated', typeof tee['simulated'] === 'boolean'],
    ['model_hash', isHex(claims['model_hash'], HEX64)],
    ['input_commitment', isHex(claims['input_commitment'], HEX64)],
    ['output_hash', isHex(claims['output_hash'], HEX64)],
    ['nonce', isHex(claims['nonce'])],
    ['enclave_key', isHex(claims['enclave_key'])],
    ['evidence_hash', isHex(claims['evidence_hash'], HEX64)],
    ['policy.id', typeof policy['id'] === 'string'],
    ['policy.version', Number.isSafeInteger(policy['version'])],
    ['log.index', isTime(log['index'])],
    ['log.leaf_hash', isHex(log['leaf_hash'], HEX64)],
  ];
  const bad = checks.find(([, ok]) => !ok);
  if (bad !== undefined)
    throw new EvidenceError(
      'RECEIPT_MALFORMED',
      `the receipt's ${bad[0]} claim is missing or of the wrong type`,
    );
  return value as ReceiptClaims;
}

/** Refuses a statement its key could not have signed then, or that claims a time to come. */
function assertIssuedInKeyLifetime(
  iat: number,
  key: JWK,
  kid: string,
  at: Date,
  what: string,
): void {
  const retired = (key as { exp?: unknown }).exp;
  if (typeof retired === 'number' && iat >= retired)
    throw new ChainError(
      'RECEIPT_KEY_RETIRED',
      `the ${what} says it was issued at ${iat}, but its key ${kid.slice(0, 64)} was retired at ${retired}`,
    );
  if (iat > at.getTime() / 1000 + MAX_CLOCK_SKEW_S)
    throw new ChainError(
      'RECEIPT_FROM_FUTURE',
      `the ${what} says it was issued at ${new Date(iat * 1000).toISOString()}, after ${at.toISOString()}`,
    );
}

function assertExpectations(claims: ReceiptClaims, expect: ReceiptExpectations, at: Date): void {
  if (claims.tee.simulated && expect.allowSimulated !== true)
    throw new ChainError(
      'RECEIPT_SIMULATED_REFUSED',
      'the receipt vouches for simulated evidence, and simulated receipts are not allowed',
    );
  if (expect.models !== undefined && !expect.models.includes(claims.model_hash))
    throw new ChainError(
      'RECEIPT_MODEL_UNEXPECTED',
      `the receipt names model ${claims.model_hash}, which is not one of the ${expect.models.length} expected`,
    );
  if (expect.measurements !== undefined && !expect.measurements.includes(claims.tee.measurement))
    throw new ChainError(
      'RECEIPT_MEASUREMENT_UNEXPECTED',
      `the receipt names measurement ${claims.tee.measurement.slice(0, 96)}, which is not one of the ${expect.measurements.length} expected`,
    );
  const ageSeconds = at.getTime() / 1000 - claims.iat;
  if (expect.maxAgeSeconds !== undefined && ageSeconds > expect.maxAgeSeconds)
    throw new ChainError(
      'RECEIPT_STALE',
      `the receipt is ${Math.floor(ageSeconds)} s old; at most ${expect.maxAgeSeconds} s is accepted`,
    );
}

/**
 * Verifies a receipt against a pinned verifier identity at time `at`.
 * @throws ChainError RECEIPT_ISSUER_UNTRUSTED, RECEIPT_BAD_SIGNATURE, RECEIPT_KEY_RETIRED,
 *   RECEIPT_FROM_FUTURE, RECEIPT_SIMULATED_REFUSED, RECEIPT_MODEL_UNEXPECTED,
 *   RECEIPT_MEASUREMENT_UNEXPECTED, RECEIPT_STALE, RECEIPT_NOT_IN_LOG
 * @throws EvidenceError RECEIPT_MALFORMED
 */
export async function verifyReceipt(input: {
  receipt: string;
  verifier: VerifierIdentity;
  /** A C2SP checkpoint note (signed by `verifier.logKey`) or a `veritee.checkpoint/v1` JWS. */
  checkpoint: string;
  inclusionPath: readonly string[];
  at: Date;
  expect?: ReceiptExpectations | undefined;
  /** Cosignatures the checkpoint must carry (then it must be a C2SP note). Default none. */
  witnesses?: WitnessRequirement | undefined;
}): Promise<ReceiptCheck> {
  const { verifier, at } = input;
  const signed = verifyJws(
    input.receipt,
    verifier.jwks,
    [RECEIPT_HEADER_TYPE, RECEIPT_TYPE_V1],
    'receipt',
  );
  const claims = receiptClaims(signed.payload, signed.typ);
  if (claims.iss !== verifier.issuer)
    throw new ChainError(
      'RECEIPT_ISSUER_UNTRUSTED',
      `the receipt names issuer ${JSON.stringify(claims.iss.slice(0, 200))}, not the pinned ${verifier.issuer}`,
    );
  assertIssuedInKeyLifetime(claims.iat, signed.key, signed.kid, at, 'receipt');
  assertExpectations(claims, input.expect ?? {}, at);

  const { log, ...entry } = claims;
  const checkpoint = verifyCheckpoint(input.checkpoint, verifier, at, input.witnesses);
  assertInLog(statementLeafHash(entry), log, checkpoint, input.inclusionPath, 'receipt');
  return {
    claims,
    checkpoint,
    issuer: verifier.issuer,
    key: { kid: signed.kid, thumbprint: await thumbprintOf(signed.key) },
  };
}

/**
 * A checkpoint the pinned verifier signed: a C2SP note signed by its log key,
 * with the cosignatures the relying party requires; or a JWS signed by one of
 * its keys while current (which carries no cosignatures).
 */
function verifyCheckpoint(
  checkpoint: string,
  verifier: VerifierIdentity,
  at: Date,
  witnesses: WitnessRequirement | undefined,
): VerifiedCheckpoint {
  const required = witnesses?.required ?? 0;
  if (!/^[\w-]+\.[\w-]*\.[\w-]+$/.test(checkpoint.trim()))
    return verifyCheckpointNote(checkpoint, verifier, witnesses);
  if (required > 0)
    throw new ChainError(
      'RECEIPT_WITNESSES_MISSING',
      `${required} witness cosignature(s) are required, and a JWS checkpoint carries none`,
    );
  const head = verifyJws(
    checkpoint,
    verifier.jwks,
    [CHECKPOINT_HEADER_TYPE, CHECKPOINT_TYPE],
    'checkpoint',
  );
  const claims = head.payload as CheckpointClaims;
  if (
    !isObject(claims) ||
    !isTime(claims.size) ||
    !isTime(claims.iat) ||
    !isHex(claims.root, HEX64)
  )
    throw new EvidenceError('RECEIPT_MALFORMED', 'the checkpoint lacks its size, time or root');
  if (claims.iss !== verifier.issuer)
    throw new ChainError('RECEIPT_ISSUER_UNTRUSTED', 'the checkpoint names another issuer');
  assertIssuedInKeyLifetime(claims.iat, head.key, head.kid, at, 'checkpoint');
  return { size: claims.size, root: claims.root, form: 'jws', cosigners: [] };
}

function verifyCheckpointNote(
  note: string,
  verifier: VerifierIdentity,
  witnesses: WitnessRequirement | undefined,
): VerifiedCheckpoint {
  if (verifier.logKey === undefined)
    throw new ChainError(
      'RECEIPT_ISSUER_UNTRUSTED',
      'the checkpoint is a signed note, and no log key of the verifier is pinned',
    );
  const logKey = parseNoteVerifier(verifier.logKey);
  const cosigners = (witnesses?.keys ?? []).map(parseNoteVerifier);
  if (
    logKey.type !== NOTE_SIGNATURE_ED25519 ||
    cosigners.some((key) => key.type !== NOTE_SIGNATURE_COSIGNATURE_V1)
  )
    throw new EvidenceError(
      'NOTE_KEY_MALFORMED',
      'a log key is type 0x01, a witness key type 0x04',
    );
  const opened = openNote(note, [logKey, ...cosigners]);
  if (!opened.signatures.some((signature) => signature.verifier === logKey))
    throw new ChainError(
      'RECEIPT_ISSUER_UNTRUSTED',
      'the checkpoint is not signed by the pinned log key',
    );
  const head = parseCheckpoint(opened.text);
  if (head.origin !== logKey.name)
    throw new ChainError(
      'RECEIPT_ISSUER_UNTRUSTED',
      `the checkpoint is of ${head.origin}, not ${logKey.name}`,
    );
  const cosigned = [
    ...new Set(
      opened.signatures
        .filter((signature) => signature.verifier !== logKey)
        .map((signature) => signature.verifier.vkey),
    ),
  ];
  const required = witnesses?.required ?? 0;
  if (cosigned.length < required)
    throw new ChainError(
      'RECEIPT_WITNESSES_MISSING',
      `the checkpoint carries ${cosigned.length} of the ${required} witness cosignature(s) required`,
    );
  return {
    size: head.size,
    root: Buffer.from(head.rootHash).toString('hex'),
    form: 'note',
    cosigners: cosigned.map((vkey) => parseNoteVerifier(vkey).name),
  };
}

/** The statement's leaf is its own claims and sits where it says in the checkpoint's tree. */
function assertInLog(
  leaf: string,
  log: LogPosition,
  checkpoint: VerifiedCheckpoint,
  inclusionPath: readonly string[],
  what: string,
): void {
  if (leaf !== log.leaf_hash)
    throw new ChainError(
      'RECEIPT_NOT_IN_LOG',
      `the ${what} names a log leaf other than its own claims`,
    );
  if (inclusionPath.length > 64)
    throw new EvidenceError(
      'RECEIPT_MALFORMED',
      'the inclusion proof is longer than any tree allows',
    );
  const path = inclusionPath.map((hash) => (isHex(hash, HEX64) ? fromHex(hash) : undefined));
  if (
    path.some((hash) => hash === undefined) ||
    !verifyInclusion(
      fromHex(leaf) ?? new Uint8Array(0),
      log.index,
      checkpoint.size,
      path as Uint8Array[],
      fromHex(checkpoint.root) ?? new Uint8Array(0),
    )
  ) {
    throw new ChainError(
      'RECEIPT_NOT_IN_LOG',
      `the ${what} is not at index ${log.index} of the checkpoint's tree of ${checkpoint.size}`,
    );
  }
}

/**
 * The approved reference values of a verifier's policy, from its signed policy
 * changes: each signed by a pinned key while current, naming the pinned
 * issuer and this policy, versions in order without a gap, and each in the
 * tree of the checkpoint. Values a policy file lists without logging them are
 * not approvals a client can check, and are not counted.
 * @throws ChainError RECEIPT_ISSUER_UNTRUSTED, RECEIPT_BAD_SIGNATURE, RECEIPT_KEY_RETIRED,
 *   RECEIPT_FROM_FUTURE, RECEIPT_NOT_IN_LOG
 * @throws EvidenceError RECEIPT_MALFORMED, POLICY_CHANGE_INVALID
 */
export function verifyApprovals(input: ApprovalsInput): Promise<VerifiedApprovals> {
  // Checked at once; a failure reaches the caller as a rejection.
  return new Promise((resolve) => resolve(approvalsOf(input)));
}

interface ApprovalsInput {
  policyId: string;
  changes: ReadonlyArray<{ readonly statement: string; readonly inclusionPath: readonly string[] }>;
  verifier: VerifierIdentity;
  checkpoint: string;
  at: Date;
  witnesses?: WitnessRequirement | undefined;
}

interface VerifiedApprovals {
  approvals: Approvals;
  version: number | undefined;
  checkpoint: VerifiedCheckpoint;
}

function approvalsOf(input: ApprovalsInput): VerifiedApprovals {
  const { verifier, at } = input;
  const checkpoint = verifyCheckpoint(input.checkpoint, verifier, at, input.witnesses);
  let approvals: Approvals = {};
  let version: number | undefined;
  for (const change of input.changes) {
    const signed = verifyJws(
      change.statement,
      verifier.jwks,
      [POLICY_CHANGE_HEADER_TYPE, POLICY_CHANGE_TYPE],
      'policy change',
    );
    const claims = policyChangeClaims(signed.payload);
    if (claims.iss !== verifier.issuer)
      throw new ChainError('RECEIPT_ISSUER_UNTRUSTED', 'a policy change names another issuer');
    const next = claims.policy.version;
    if (
      claims.policy.id !== input.policyId ||
      claims.jti !== `policy-${input.policyId}-${next}` ||
      (version !== undefined && next !== version + 1)
    )
      throw new EvidenceError(
        'POLICY_CHANGE_INVALID',
        `policy change ${String(next)} is not the next change of policy ${input.policyId.slice(0, 128)}`,
      );
    assertIssuedInKeyLifetime(claims.iat, signed.key, signed.kid, at, 'policy change');
    const { log, ...entry } = claims;
    assertInLog(statementLeafHash(entry), log, checkpoint, change.inclusionPath, 'policy change');
    approvals = applyChange(approvals, claims);
    version = next;
  }
  return { approvals, version, checkpoint };
}

function policyChangeClaims(value: unknown): PolicyChangeClaims {
  const claims = isObject(value) ? value : {};
  const policy = isObject(claims['policy']) ? claims['policy'] : {};
  const log = isObject(claims['log']) ? claims['log'] : {};
  const ok =
    claims['typ'] === POLICY_CHANGE_TYPE &&
    typeof claims['iss'] === 'string' &&
    isTime(claims['iat']) &&
    typeof claims['jti'] === 'string' &&
    typeof policy['id'] === 'string' &&
    Number.isSafeInteger(policy['version']) &&
    (claims['action'] === 'register' || claims['action'] === 'retire') &&
    (claims['note'] === undefined || typeof claims['note'] === 'string') &&
    isTime(log['index']) &&
    isHex(log['leaf_hash'], HEX64);
  if (!ok)
    throw new EvidenceError(
      'RECEIPT_MALFORMED',
      'a policy change lacks a claim or has one of the wrong type',
    );
  // The reference value is checked as strictly as the admin API checks it.
  return {
    ...(claims as unknown as PolicyChangeClaims),
    reference: parseReferenceValue(claims['reference']),
  };
}

/** Most keys a verifier's JWKS may hold: years of rotations, not an attacker's list. */
const MAX_JWKS_KEYS = 64;

/**
 * A verifier's JWKS as read from a file or its `/.well-known/jwks.json`: at
 * most 64 keys, each a P-256 public key (ES256) with a `kid`, and an `exp`
 * (retirement, seconds since the epoch) when it has one.
 * @throws EvidenceError RECEIPT_JWKS_MALFORMED
 */
export function parseJwks(value: unknown): JSONWebKeySet {
  const keys = isObject(value) ? value['keys'] : undefined;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_JWKS_KEYS)
    throw new EvidenceError(
      'RECEIPT_JWKS_MALFORMED',
      `a JWKS holds 1 to ${MAX_JWKS_KEYS} keys under "keys"`,
    );
  return {
    keys: keys.map((key: unknown, index) => {
      const jwk = isObject(key) ? key : {};
      const ok =
        jwk['kty'] === 'EC' &&
        jwk['crv'] === 'P-256' &&
        typeof jwk['x'] === 'string' &&
        typeof jwk['y'] === 'string' &&
        jwk['d'] === undefined &&
        typeof jwk['kid'] === 'string' &&
        jwk['kid'].length <= 128 &&
        (jwk['exp'] === undefined || isTime(jwk['exp']));
      if (!ok)
        throw new EvidenceError(
          'RECEIPT_JWKS_MALFORMED',
          `key ${index} is not a P-256 public key with a kid (and a numeric exp, if any)`,
        );
      return jwk;
    }),
  };
}

/**
 * The claims of a JWS without verifying it: only to learn where to fetch what
 * verification needs (log index, checkpoint size). Never trust them.
 * @throws EvidenceError RECEIPT_MALFORMED
 */
export function peekJwsClaims(jws: string): Record<string, unknown> {
  try {
    return decodeJwt(jws.trim());
  } catch (error) {
    throw new EvidenceError('RECEIPT_MALFORMED', 'not a compact JWS', { cause: error });
  }
}
