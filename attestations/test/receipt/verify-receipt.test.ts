/**
 * verifyReceipt trusts the verifier the relying party pinned, and nothing the
 * receipt says about who signed it: receipts are built here with jose, as a
 * verifier (or a forger) would, over a one-leaf log.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { ChainError, EvidenceError, toHex } from '../../src/index.js';
import { leafHash } from '../../src/merkle/index.js';
import { randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import {
  formatCheckpoint,
  NOTE_SIGNATURE_COSIGNATURE_V1,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  signatureLine,
  signNote,
} from '../../src/tlog/index.js';
import {
  peekJwsClaims,
  parseJwks,
  statementEntryBytes,
  statementLeafHash,
  verifyReceipt,
  type ReceiptEntry,
  type VerifierIdentity,
} from '../../src/receipt/index.js';

const ISSUER = 'https://verifier.example';
const NOW = new Date('2026-11-29T12:00:00Z');
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

interface Key {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function key(kid: string, exp?: Date): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = {
    ...(await exportJWK(publicKey)),
    kid,
    ...(exp === undefined ? {} : { exp: seconds(exp) }),
  };
  return { kid, privateKey, jwk };
}

// The pinned verifier: a key retired a month ago and the current one.
const retiredAt = new Date('2026-10-29T00:00:00Z');
const old = await key('2026-01-01-old', retiredAt);
const current = await key('2026-10-29-cur');
const verifier: VerifierIdentity = { issuer: ISSUER, jwks: { keys: [current.jwk, old.jwk] } };
const forger = await key('forger');

function entry(overrides: Partial<ReceiptEntry> = {}): ReceiptEntry {
  return {
    typ: 'veritee.receipt/v1',
    iss: ISSUER,
    iat: seconds(NOW) - 60,
    jti: 'a1b2',
    tee: { format: 'sev-snp', measurement: 'ab'.repeat(48), simulated: false },
    model_hash: '11'.repeat(32),
    input_commitment: '22'.repeat(32),
    output_hash: '33'.repeat(32),
    nonce: '44'.repeat(32),
    enclave_key: '55'.repeat(32),
    evidence_hash: '66'.repeat(32),
    policy: { id: 'prod', version: 3 },
    ...overrides,
  };
}

const sign = (claims: object, by: Key, typ: string) =>
  new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: by.kid, typ })
    .sign(by.privateKey);

/** A receipt, and the checkpoint of the one-leaf log holding it, signed as told. */
async function issue(
  claims: Record<string, unknown>,
  by: Key = current,
  head: { by?: Key; iss?: string; iat?: number } = {},
  typ = 'veritee.receipt/v1',
) {
  // Malformed claims have no entry encoding: any leaf will do, since they are refused first.
  let leaf = '00'.repeat(32);
  try {
    leaf = toHex(leafHash(statementEntryBytes(claims as unknown as ReceiptEntry)));
  } catch {
    // keep the placeholder
  }
  const receipt = await sign({ ...claims, log: { index: 0, leaf_hash: leaf } }, by, typ);
  const checkpoint = await sign(
    {
      typ: 'veritee.checkpoint/v1',
      iss: head.iss ?? ISSUER,
      iat: head.iat ?? seconds(NOW) - 30,
      size: 1,
      root: leaf,
    },
    head.by ?? current,
    'veritee-checkpoint+jwt',
  );
  return { receipt, checkpoint, inclusionPath: [] as string[] };
}

const check = (
  issued: Awaited<ReturnType<typeof issue>>,
  options: {
    expect?: Parameters<typeof verifyReceipt>[0]['expect'];
    identity?: VerifierIdentity;
  } = {},
) =>
  verifyReceipt({
    ...issued,
    verifier: options.identity ?? verifier,
    at: NOW,
    expect: options.expect,
  });

const rejectsWith = async (
  promise: Promise<unknown>,
  kind: typeof ChainError | typeof EvidenceError,
  code: string,
) => assert.rejects(promise, (error: unknown) => error instanceof kind && error.code === code);

describe('verifyReceipt', () => {
  it('accepts a receipt of the pinned issuer and key, and names the key that vouched', async () => {
    const result = await check(await issue({ ...entry() }));
    assert.equal(result.issuer, ISSUER);
    assert.equal(result.key.kid, current.kid);
    assert.match(result.key.thumbprint, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(result.claims.log.leaf_hash, statementLeafHash(entry()));
  });

  describe('when the receipt names a verifier the relying party did not pin', () => {
    it('refuses a receipt signed by an unrelated key, whatever issuer it names', async () => {
      for (const iss of [ISSUER, 'https://forger.example'])
        await rejectsWith(
          check(await issue({ ...entry({ iss }) }, forger, { by: forger, iss })),
          ChainError,
          'RECEIPT_ISSUER_UNTRUSTED',
        );
    });
    it('refuses a receipt by a pinned key that names another issuer', async () => {
      await rejectsWith(
        check(await issue({ ...entry({ iss: 'https://elsewhere.example' }) })),
        ChainError,
        'RECEIPT_ISSUER_UNTRUSTED',
      );
    });
    it('refuses a checkpoint signed by a key outside the pin', async () => {
      await rejectsWith(
        check(await issue({ ...entry() }, current, { by: forger })),
        ChainError,
        'RECEIPT_ISSUER_UNTRUSTED',
      );
    });
  });

  describe('when keys have lifetimes', () => {
    it('accepts what a retired key signed before it was retired', async () => {
      const result = await check(
        await issue({ ...entry({ iat: seconds(retiredAt) - 3600 }) }, old),
      );
      assert.equal(result.key.kid, old.kid);
    });
    it('refuses a retired key’s receipt dated after its retirement, even a year ahead', async () => {
      for (const iat of [seconds(retiredAt), seconds(NOW), seconds(NOW) + 365 * 86400])
        await rejectsWith(
          check(await issue({ ...entry({ iat }) }, old)),
          ChainError,
          'RECEIPT_KEY_RETIRED',
        );
    });
    it('refuses a current key’s receipt dated in the future beyond the clock skew', async () => {
      await rejectsWith(
        check(await issue({ ...entry({ iat: seconds(NOW) + 3600 }) })),
        ChainError,
        'RECEIPT_FROM_FUTURE',
      );
      await check(await issue({ ...entry({ iat: seconds(NOW) + 60 }) }));
    });
  });

  it('refuses a receipt lacking any claim, or with one of the wrong type, with a typed error', async () => {
    const full = entry() as unknown as Record<string, unknown>;
    const cases: Array<Record<string, unknown>> = [
      ...Object.keys(full).map((name) =>
        Object.fromEntries(Object.entries(full).filter(([key]) => key !== name)),
      ),
      { ...full, tee: { format: 'sev-snp', simulated: false } },
      { ...full, tee: 'sev-snp' },
      { ...full, policy: { id: 'prod' } },
      { ...full, iat: '1700000000' },
      { ...full, nonce: 42 },
      { ...full, model_hash: 'not hex' },
    ];
    for (const claims of cases) {
      const issued = await issue(claims);
      await rejectsWith(check(issued), EvidenceError, 'RECEIPT_MALFORMED');
    }
  });

  describe('when the relying party states expectations', () => {
    it('refuses simulated receipts unless allowed', async () => {
      const simulated = await issue({ ...entry({ tee: { ...entry().tee, simulated: true } }) });
      await rejectsWith(check(simulated), ChainError, 'RECEIPT_SIMULATED_REFUSED');
      await check(simulated, { expect: { allowSimulated: true } });
    });
    it('refuses another model, another measurement, or a receipt too old', async () => {
      const issued = await issue({ ...entry() });
      await check(issued, {
        expect: { models: ['11'.repeat(32)], measurements: ['ab'.repeat(48)], maxAgeSeconds: 120 },
      });
      await rejectsWith(
        check(issued, { expect: { models: ['77'.repeat(32)] } }),
        ChainError,
        'RECEIPT_MODEL_UNEXPECTED',
      );
      await rejectsWith(
        check(issued, { expect: { measurements: ['cd'.repeat(48)] } }),
        ChainError,
        'RECEIPT_MEASUREMENT_UNEXPECTED',
      );
      await rejectsWith(
        check(issued, { expect: { maxAgeSeconds: 30 } }),
        ChainError,
        'RECEIPT_STALE',
      );
    });
  });
});

describe('parseJwks', () => {
  it('reads a verifier JWKS and refuses private keys, other curves and unbounded lists', () => {
    assert.equal(parseJwks({ keys: [current.jwk, old.jwk] }).keys.length, 2);
    for (const bad of [
      null,
      { keys: [] },
      { keys: [{ ...current.jwk, d: 'secret' }] },
      { keys: [{ ...current.jwk, crv: 'P-384' }] },
      { keys: [{ ...current.jwk, kid: undefined }] },
      { keys: [{ ...current.jwk, exp: 'soon' }] },
      { keys: Array.from({ length: 65 }, () => current.jwk) },
    ])
      assert.throws(
        () => parseJwks(bad),
        (error: unknown) =>
          error instanceof EvidenceError && error.code === 'RECEIPT_JWKS_MALFORMED',
      );
  });
});

describe('verifyReceipt against a C2SP checkpoint, with witnesses', () => {
  const logKey = noteSignerFromSeed(
    'verifier.example/log',
    NOTE_SIGNATURE_ED25519,
    randomBytes(32),
  );
  const w1 = noteSignerFromSeed('w1.example', NOTE_SIGNATURE_COSIGNATURE_V1, randomBytes(32));
  const w2 = noteSignerFromSeed('w2.example', NOTE_SIGNATURE_COSIGNATURE_V1, randomBytes(32));
  const identity: VerifierIdentity = { ...verifier, logKey: logKey.vkey };
  /** The one-leaf log holding a receipt, as a note signed by `by` and cosigned by `cosigners`. */
  async function noted(by = logKey, cosigners: (typeof w1)[] = [], origin = by.name) {
    const issued = await issue({ ...entry() });
    const leaf = (peekJwsClaims(issued.receipt) as { log: { leaf_hash: string } }).log.leaf_hash;
    const text = formatCheckpoint({
      origin,
      size: 1,
      rootHash: Buffer.from(leaf, 'hex'),
      extensions: [],
    });
    const checkpoint =
      signNote(text, [by]) + cosigners.map((w) => signatureLine(w, text, 1_764_000_000)).join('');
    return { ...issued, checkpoint };
  }
  const verify = (
    issued: Awaited<ReturnType<typeof noted>>,
    required: number,
    keys = [w1.vkey, w2.vkey],
    pinned = identity,
  ) => verifyReceipt({ ...issued, verifier: pinned, at: NOW, witnesses: { keys, required } });

  it('accepts a note signed by the pinned log key carrying the cosignatures required, and names them', async () => {
    const result = await verify(await noted(logKey, [w1, w2]), 2);
    assert.deepEqual([result.checkpoint.form, result.checkpoint.size], ['note', 1]);
    assert.deepEqual(result.checkpoint.cosigners, ['w1.example', 'w2.example']);
    assert.equal((await verify(await noted(logKey, [w2]), 1)).checkpoint.cosigners.length, 1);
  });

  it('refuses too few cosignatures, a repeated one, a witness not asked for, and a JWS when any is required', async () => {
    await rejectsWith(
      verify(await noted(logKey, [w1]), 2),
      ChainError,
      'RECEIPT_WITNESSES_MISSING',
    );
    await rejectsWith(
      verify(await noted(logKey, [w1, w1]), 2),
      ChainError,
      'RECEIPT_WITNESSES_MISSING',
    );
    await rejectsWith(
      verify(await noted(logKey, [w2]), 1, [w1.vkey]),
      ChainError,
      'RECEIPT_WITNESSES_MISSING',
    );
    const jws = await issue({ ...entry() });
    await rejectsWith(
      verifyReceipt({
        ...jws,
        verifier: identity,
        at: NOW,
        witnesses: { keys: [w1.vkey], required: 1 },
      }),
      ChainError,
      'RECEIPT_WITNESSES_MISSING',
    );
  });

  it('refuses a note by another log key, of another origin, or with no log key pinned', async () => {
    const other = noteSignerFromSeed(
      'verifier.example/log',
      NOTE_SIGNATURE_ED25519,
      randomBytes(32),
    );
    await rejectsWith(verify(await noted(other, [w1]), 1), ChainError, 'RECEIPT_ISSUER_UNTRUSTED');
    await rejectsWith(
      verify(await noted(logKey, [w1], 'elsewhere.example/log'), 1),
      ChainError,
      'RECEIPT_ISSUER_UNTRUSTED',
    );
    await rejectsWith(
      verify(await noted(logKey, [w1]), 0, [], verifier),
      ChainError,
      'RECEIPT_ISSUER_UNTRUSTED',
    );
  });
});

describe('receipts v2: the log entry is RFC 8785 canonical JSON', () => {
  it("canonicalizes RFC 8785's own example (section 3.2.2) as the RFC prints it", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('hashes a v2 entry as its sorted-key JSON, and verifies a v2 receipt signed with the RFC 8725 typ', async () => {
    const v2 = entry({ typ: 'veritee.receipt/v2' as ReceiptEntry['typ'] });
    const bytes = new TextDecoder().decode(statementEntryBytes(v2));
    assert.ok(bytes.startsWith('{"enclave_key":"'), bytes.slice(0, 40));
    assert.equal(bytes, canonicalize(v2));
    const issued = await issue({ ...v2 }, current, {}, 'veritee-receipt+jwt');
    const result = await check(issued);
    assert.equal(result.claims.typ, 'veritee.receipt/v2');
  });

  it('refuses a header type that does not match the claims version', async () => {
    const v2 = entry({ typ: 'veritee.receipt/v2' as ReceiptEntry['typ'] });
    await rejectsWith(
      check(await issue({ ...v2 }, current, {}, 'veritee.receipt/v1')),
      EvidenceError,
      'RECEIPT_MALFORMED',
    );
    await rejectsWith(
      check(await issue({ ...entry() }, current, {}, 'veritee-receipt+jwt')),
      EvidenceError,
      'RECEIPT_MALFORMED',
    );
  });
});
