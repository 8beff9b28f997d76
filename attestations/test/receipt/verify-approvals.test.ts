/**
 * verifyApprovals replays only policy changes the pinned verifier signed and
 * its log holds, in order: a forged, reordered or unlogged change is refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { ChainError, EvidenceError, toHex } from '../../src/index.js';
import { inclusionProof, leafHash, merkleRoot } from '../../src/merkle/index.js';
import {
  approvesEnclave,
  statementEntryBytes,
  verifyApprovals,
  type PolicyChangeEntry,
} from '../../src/receipt/index.js';

const ISSUER = 'https://verifier.example';
const AT = new Date('2026-11-29T12:00:00Z');
const iat = Math.floor(AT.getTime() / 1000) - 600;

async function key(kid: string): Promise<{ kid: string; privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}
const pinned = await key('pinned');
const forger = await key('forger');
const verifier = { issuer: ISSUER, jwks: { keys: [pinned.jwk] } };

const M1 = '11'.repeat(48);
const M2 = '22'.repeat(48);
const MODEL = '33'.repeat(32);

const change = (
  version: number,
  action: 'register' | 'retire',
  measurement: string,
): PolicyChangeEntry => ({
  typ: 'veritee.policy-change/v1',
  iss: ISSUER,
  iat,
  jti: `policy-prod-${version}`,
  policy: { id: 'prod', version },
  action,
  reference: { tee: 'sev-snp', measurement, modelHash: MODEL },
});

/** A log of these changes, each signed naming its place, with a checkpoint over all of them. */
async function logOf(
  entries: readonly PolicyChangeEntry[],
  signers = entries.map(() => pinned),
  size = entries.length,
  headers = { change: 'veritee-policy-change+jwt', checkpoint: 'veritee-checkpoint+jwt' },
) {
  const leaves = entries.map((entry) => leafHash(statementEntryBytes(entry)));
  const root = merkleRoot(leaves.slice(0, size));
  const sign = (claims: object, by: typeof pinned, typ: string) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: by.kid, typ })
      .sign(by.privateKey);
  const changes = await Promise.all(
    entries.map(async (entry, index) => ({
      statement: await sign(
        { ...entry, log: { index, leaf_hash: toHex(leaves[index]!) } },
        signers[index]!,
        headers.change,
      ),
      inclusionPath: index < size ? inclusionProof(leaves.slice(0, size), index).map(toHex) : [],
    })),
  );
  const checkpoint = await sign(
    { typ: 'veritee.checkpoint/v1', iss: ISSUER, iat, size, root: toHex(root) },
    pinned,
    headers.checkpoint,
  );
  return { policyId: 'prod', changes, checkpoint, verifier, at: AT };
}

const refusedWith = (promise: Promise<unknown>, code: string) =>
  assert.rejects(
    promise,
    (error: unknown) =>
      (error instanceof ChainError || error instanceof EvidenceError) && error.code === code,
  );

describe('verifyApprovals', () => {
  it('replays registrations and retirements proven in the log', async () => {
    const { approvals, version } = await verifyApprovals(
      await logOf([change(2, 'register', M1), change(3, 'register', M2), change(4, 'retire', M1)]),
    );
    assert.equal(version, 4);
    assert.equal(
      approvesEnclave(approvals, { format: 'sev-snp', measurement: M2 }, MODEL),
      'approved',
    );
    assert.equal(
      approvesEnclave(approvals, { format: 'sev-snp', measurement: M1 }, MODEL),
      'measurement-unknown',
    );
    assert.equal(
      approvesEnclave(approvals, { format: 'sev-snp', measurement: M2 }, '44'.repeat(32)),
      'model-not-approved',
    );
  });

  it('still reads changes and checkpoints signed before RFC 8725 types, with their tag as typ', async () => {
    const legacy = { change: 'veritee.policy-change/v1', checkpoint: 'veritee.checkpoint/v1' };
    const { version } = await verifyApprovals(
      await logOf([change(2, 'register', M1)], undefined, 1, legacy),
    );
    assert.equal(version, 2);
  });

  it('refuses a change or checkpoint signed with another statement type', async () => {
    for (const headers of [
      { change: 'veritee-receipt+jwt', checkpoint: 'veritee-checkpoint+jwt' },
      { change: 'veritee-policy-change+jwt', checkpoint: 'veritee-policy-change+jwt' },
    ])
      await refusedWith(
        verifyApprovals(await logOf([change(2, 'register', M1)], undefined, 1, headers)),
        'RECEIPT_MALFORMED',
      );
  });

  it('refuses a change signed by a key the verifier does not hold', async () => {
    await refusedWith(
      verifyApprovals(await logOf([change(2, 'register', M1)], [forger])),
      'RECEIPT_ISSUER_UNTRUSTED',
    );
  });

  it('refuses changes out of order or with one left out', async () => {
    await refusedWith(
      verifyApprovals(await logOf([change(2, 'register', M1), change(4, 'register', M2)])),
      'POLICY_CHANGE_INVALID',
    );
  });

  it('refuses a change the checkpoint does not hold', async () => {
    await refusedWith(
      verifyApprovals(
        await logOf([change(2, 'register', M1), change(3, 'retire', M1)], undefined, 1),
      ),
      'RECEIPT_NOT_IN_LOG',
    );
  });
});
