/**
 * The key broker for SEV-SNP (KMS knows nothing of SNP): it releases a data
 * key only to evidence that passes the policy in force and binds, in its report
 * data, the X25519 key to seal to (`veritee.key-release/v1`). It unwraps the
 * key with KMS, records the release in the log (durably, before answering),
 * and answers with the key sealed to the attested enclave key.
 *
 * SNP reports carry no time, so freshness comes from the broker: the nonce
 * the enclave quotes must be the SHA-256 of a challenge the broker signed
 * (`veritee-key-release-challenge+jwt`) less than `challengeTtlSeconds` ago.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { compactVerify, createLocalJWKSet } from 'jose';
import { bytesEqual, toHex } from '@veritee/attestations';
import { type Appraisal } from '@veritee/attestations/evidence';
import { statementTee, type KeyReleaseEntry } from '@veritee/attestations/receipt';
import {
  KEY_RELEASE_FORMAT,
  keyReleaseDigest,
  sealReleasedKey,
  type KeyReleaseRequest,
} from '@veritee/attestations/seal';
import type { StatementLog } from '../log/statements.js';
import type { Signer } from '../signing/signer.js';
import { hasLowS } from '../signing/low-s.js';
import { ReceiptRefused, type PolicyRef } from './receipts.js';

export interface KeyBrokerOptions {
  readonly appraise: (evidence: Uint8Array) => Promise<Appraisal>;
  readonly policy: () => PolicyRef;
  /** Unwraps a data key with KMS (the verifier's own permission). */
  readonly unwrap: (encryptedKey: Uint8Array) => Promise<Uint8Array>;
  /** Where releases are signed into the log. */
  readonly statements: StatementLog;
  /** Signs challenges. */
  readonly signer: Signer;
  readonly issuer: string;
  readonly clock: () => Date;
  /** How long a challenge stays good (default 60 s). */
  readonly challengeTtlSeconds?: number;
}

/** The challenge's JWS header `typ` (RFC 8725, section 3.11). */
export const CHALLENGE_TYPE = 'veritee-key-release-challenge+jwt';
const MAX_CLOCK_SKEW_S = 5;

/** The list of codes of a refusal with one reason. */
const onlyCode = (code: string): readonly string[] => [code];

export function createKeyBroker(options: KeyBrokerOptions) {
  const ttl = options.challengeTtlSeconds ?? 60;
  const now = () => Math.floor(options.clock().getTime() / 1000);

  // Challenges presented, by their nonce, until they expire: each is good for one release.
  const used = new Map<string, number>();

  /**
   * The challenge's own nonce when it is ours, fresh, in the one signature form
   * we sign (low s), and hashes to the quoted nonce; undefined otherwise.
   */
  async function challengeHolds(challenge: string, nonce: Uint8Array): Promise<string | undefined> {
    const digest = createHash('sha256').update(challenge).digest();
    if (!bytesEqual(digest, nonce) || !hasLowS(challenge)) return undefined;
    try {
      const { payload, protectedHeader } = await compactVerify(
        challenge,
        createLocalJWKSet(options.signer.jwks()),
      );
      const claims = JSON.parse(new TextDecoder().decode(payload)) as {
        iat?: unknown;
        nonce?: unknown;
      };
      const age = typeof claims.iat === 'number' ? now() - claims.iat : NaN;
      const fresh =
        protectedHeader.typ === CHALLENGE_TYPE && age <= ttl && age >= -MAX_CLOCK_SKEW_S;
      return fresh && typeof claims.nonce === 'string' ? claims.nonce : undefined;
    } catch {
      return undefined;
    }
  }

  /** Marks a challenge used; false when it was used already. */
  function consume(challengeNonce: string): boolean {
    const at = now();
    for (const [seen, expires] of used) if (expires < at) used.delete(seen);
    if (used.has(challengeNonce)) return false;
    used.set(challengeNonce, at + ttl + MAX_CLOCK_SKEW_S);
    return true;
  }

  return {
    /** A fresh challenge; the enclave quotes its SHA-256 as the nonce. */
    async challenge(): Promise<{ challenge: string; expiresIn: number }> {
      const challenge = await options.signer.sign(
        { iss: options.issuer, iat: now(), nonce: randomBytes(16).toString('hex') },
        CHALLENGE_TYPE,
      );
      return { challenge, expiresIn: ttl };
    },

    /**
     * @throws ReceiptRefused 422 KEY_RELEASE_DENIED with every code (KEY_RELEASE_CHALLENGE_INVALID
     *   for a stale, foreign or mismatched challenge)
     * @throws UpstreamError KMS_UNAVAILABLE, ChainError KEY_RELEASE_DENIED when KMS refuses
     */
    async release(
      evidence: Uint8Array,
      request: KeyReleaseRequest,
      challenge: string,
    ): Promise<{ sealedKey: Uint8Array; index: number; statement: string }> {
      const expected = keyReleaseDigest(request);
      const challengeNonce = await challengeHolds(challenge, request.nonce);
      if (challengeNonce === undefined)
        throw new ReceiptRefused(
          'KEY_RELEASE_DENIED',
          'the nonce is not the digest of a fresh challenge from this broker',
          onlyCode('KEY_RELEASE_CHALLENGE_INVALID'),
        );
      // Used up before anything else runs: a replay, even a concurrent one, gets nothing.
      if (!consume(challengeNonce))
        throw new ReceiptRefused(
          'KEY_RELEASE_DENIED',
          'this challenge was used already; ask for a new one',
          onlyCode('KEY_RELEASE_CHALLENGE_USED'),
        );
      const verdict = await options.appraise(evidence);
      if (verdict.verdict !== 'accept')
        throw new ReceiptRefused(
          'KEY_RELEASE_DENIED',
          'the evidence is not authentic or fails the policy',
          verdict.codes,
        );
      const { reportData } = verdict.claims;
      if (reportData === undefined || !bytesEqual(reportData, expected))
        throw new ReceiptRefused(
          'KEY_RELEASE_DENIED',
          'the evidence does not bind this key release request',
          onlyCode('KEY_RELEASE_BINDING_MISMATCH'),
        );
      const dataKey = await options.unwrap(request.encryptedKey);
      try {
        const { id, version } = options.policy();
        const entry: KeyReleaseEntry = {
          typ: KEY_RELEASE_FORMAT,
          iss: options.issuer,
          iat: Math.floor(options.clock().getTime() / 1000),
          jti: `release-${randomUUID()}`,
          tee: statementTee(verdict.claims),
          policy: { id, version },
          enclave_key: toHex(request.enclaveKey),
          nonce: toHex(request.nonce),
          encrypted_key_hash: createHash('sha256').update(request.encryptedKey).digest('hex'),
          evidence_hash: toHex(verdict.claims.evidenceHash),
        };
        // Logged before the key leaves: every release is on the record.
        const { index, statement } = await options.statements.append(entry);
        return { sealedKey: sealReleasedKey(request.enclaveKey, dataKey), index, statement };
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

export type KeyBroker = ReturnType<typeof createKeyBroker>;
