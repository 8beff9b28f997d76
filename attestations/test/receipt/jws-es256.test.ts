/**
 * Our ES256 compact JWS verification against jose's compactVerify as the
 * oracle: whatever it accepts, jose accepts with the same header and payload,
 * on signed tokens of every header shape and on every edit of them; and
 * every genuine ES256 token is accepted by both.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import { verifyEs256Compact } from '../../src/receipt/jws-es256.js';

const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    jwk: { ...publicKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' } as JWK,
    privateKey,
  };
}
const signer = keyPair();
const stranger = keyPair();

const b64url = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');

/** A compact JWS of `header` and `payload` signed ES256 by `signer`, whatever the header says. */
function signed(header: unknown, payload = '{"sub":"receipt"}'): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: signer.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${b64url(signature)}`;
}

type Outcome = { accepted: false } | { accepted: true; header: unknown; payload: Uint8Array };

async function theirs(compact: string, jwk: JWK): Promise<Outcome> {
  try {
    const result = await compactVerify(compact, await importJWK(jwk, 'ES256'), {
      algorithms: ['ES256'],
    });
    return { accepted: true, header: result.protectedHeader, payload: result.payload };
  } catch {
    return { accepted: false };
  }
}

function ours(compact: string, jwk: JWK): Outcome {
  try {
    const result = verifyEs256Compact(compact, jwk);
    return { accepted: true, header: result.protectedHeader, payload: result.payload };
  } catch {
    return { accepted: false };
  }
}

/** Ours accepts only what jose accepts, with the same content; returns both outcomes. */
async function noLooser(compact: string, jwk = signer.jwk) {
  const [mine, oracle] = [ours(compact, jwk), await theirs(compact, jwk)];
  if (mine.accepted) {
    assert.ok(oracle.accepted, `jose refuses what we accept: ${compact}`);
    assert.deepEqual(mine.header, oracle.header);
    assert.deepEqual(new Uint8Array(mine.payload), new Uint8Array(oracle.payload));
  }
  return { mine: mine.accepted, oracle: oracle.accepted };
}

describe('verifyEs256Compact against jose', () => {
  it('accepts what jose signs and what we sign, as jose does, with the same header and payload', async () => {
    const joseSigned = await new CompactSign(new TextEncoder().encode('{"a":1}'))
      .setProtectedHeader({ alg: 'ES256', typ: 'veritee.receipt+jwt', kid: 'k1' })
      .sign(signer.privateKey);
    for (const token of [
      joseSigned,
      signed({ alg: 'ES256' }),
      signed({ alg: 'ES256', typ: 'x', kid: 'k' }, ''),
      signed({ alg: 'ES256', b64: false }),
    ])
      assert.deepEqual(await noLooser(token), { mine: true, oracle: true }, token);
  });

  it('agrees that an ECDSA signature in its high-s form verifies', async () => {
    const token = signed({ alg: 'ES256' });
    const [input, signature] = [token.slice(0, token.lastIndexOf('.')), token.split('.')[2]!];
    const bytes = Buffer.from(signature, 'base64url');
    const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
    const high = Buffer.concat([
      bytes.subarray(0, 32),
      Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex'),
    ]);
    assert.deepEqual(await noLooser(`${input}.${b64url(high)}`), { mine: true, oracle: true });
  });

  it('refuses, as jose does or more strictly, other algorithms, critical headers and other keys', async () => {
    const cases = [
      signed({ alg: 'none' }),
      signed({ alg: 'HS256' }),
      signed({ alg: 'ES384' }),
      signed({ alg: 'RS256' }),
      signed({ typ: 'JWT' }),
      signed({ alg: 'ES256', crit: ['b64'], b64: false }),
      signed({ alg: 'ES256', crit: ['b64'], b64: true }),
      signed({ alg: 'ES256', crit: ['exp'], exp: 1 }),
      signed({ alg: 'ES256', crit: [] }),
      signed(['ES256']),
      signed('ES256'),
      signed(null),
      `${b64url('{alg:ES256}')}.${b64url('{}')}.${b64url(new Uint8Array(64))}`,
      signed({ alg: 'ES256' }).slice(0, -2),
      `${signed({ alg: 'ES256' })}.`,
      `${signed({ alg: 'ES256' })}=`,
      signed({ alg: 'ES256' }).replace('.', '..'),
      '',
      '..',
    ];
    // One token, one spelling: the signature's last character with a stray low bit set.
    const token = signed({ alg: 'ES256' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    const stray = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(
      Buffer.from(stray.split('.')[2]!, 'base64url'),
      Buffer.from(token.split('.')[2]!, 'base64url'),
    );
    cases.push(stray);
    for (const token of cases) assert.equal((await noLooser(token)).mine, false, token);
    assert.deepEqual(await noLooser(signed({ alg: 'ES256' }), stranger.jwk), {
      mine: false,
      oracle: false,
    });
    assert.throws(() =>
      verifyEs256Compact(signed({ alg: 'ES256' }), { ...signer.jwk, crv: 'P-384' }),
    );
  });

  it('accepts no edit of a signed token that jose refuses: a character changed, dropped or added', async () => {
    const tokens = [
      signed({ alg: 'ES256', typ: 'veritee.receipt+jwt', kid: 'k1' }),
      signed({ alg: 'ES256' }, ''),
    ];
    const characters = [...'AQgw_-+/=. \n', 'é'];
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tokens),
        fc.nat(),
        fc.constantFrom('replace', 'drop', 'insert'),
        fc.constantFrom(...characters),
        async (token, at, edit, character) => {
          const index = at % (token.length + 1);
          const edited =
            edit === 'drop'
              ? token.slice(0, index) + token.slice(index + 1)
              : token.slice(0, index) +
                character +
                token.slice(index + (edit === 'replace' ? 1 : 0));
          const { mine } = await noLooser(edited);
          if (!mine) refused += 1;
        },
      ),
      { seed: 0x05256, numRuns: 3000, interruptAfterTimeLimit: 8000 },
    );
    assert.ok(refused > 0);
  });
});
