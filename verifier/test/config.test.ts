/**
 * Who may have receipts issued, as the verifier reads it from its settings:
 * digests, or tokens a secret store injects (hashed at once, never echoed).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ConfigError } from '@veritee/attestations';
import { parseConfig } from '../src/config.js';

const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const tokensOf = (env: Record<string, string>) => parseConfig(env).receiptTokens;

describe('receipt tokens', () => {
  it('holds no token by default, so no receipts are issued', () => {
    assert.deepEqual(tokensOf({}), []);
  });

  it('takes digests and tokens together, holding only digests', () => {
    const token = 'injected-by-the-secret-store-0123';
    const other = 'b'.repeat(64);
    assert.deepEqual(
      tokensOf({ VERITEE_RECEIPT_TOKEN_HASHES: other, VERITEE_RECEIPT_TOKENS: token }),
      [other, digest(token)],
    );
  });

  it('refuses a short token without quoting it, and tokens beside open receipts', () => {
    const short = 'tooshort-secret';
    assert.throws(
      () => tokensOf({ VERITEE_RECEIPT_TOKENS: `a-long-enough-token-12345,${short}` }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === 'CONFIG_INVALID' &&
        !error.message.includes(short),
    );
    assert.throws(
      () => tokensOf({ VERITEE_RECEIPTS_OPEN: '1', VERITEE_RECEIPT_TOKENS: 'a'.repeat(20) }),
      (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INVALID',
    );
  });
});
