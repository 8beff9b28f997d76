import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nitroKeyPolicy } from '@veritee/infra';
import { evaluateKeyPolicy } from '../../src/kms/index.js';

const IMAGE = 'ab'.repeat(48);
const policy = nitroKeyPolicy({
  accountId: '111122223333',
  enclaveRoleArn: 'arn:aws:iam::111122223333:role/enclave-host',
  adminRoleArn: 'arn:aws:iam::111122223333:role/operator',
  imageSha384: [IMAGE.toUpperCase()],
});

describe('evaluateKeyPolicy', () => {
  it('allows Decrypt only with an attestation of an approved image (hex in any case)', () => {
    assert.equal(evaluateKeyPolicy(policy, 'kms:Decrypt', { ImageSha384: IMAGE }).allowed, true);
    assert.equal(
      evaluateKeyPolicy(policy, 'kms:Decrypt', { ImageSha384: 'cd'.repeat(48) }).allowed,
      false,
    );
    assert.equal(evaluateKeyPolicy(policy, 'kms:Decrypt', undefined).allowed, false);
  });

  it('matches IAM action wildcards, case-insensitively', () => {
    assert.equal(evaluateKeyPolicy(policy, 'kms:CreateGrant', undefined).allowed, true);
    assert.equal(evaluateKeyPolicy(policy, 'KMS:generatedatakey', undefined).allowed, true);
    assert.equal(evaluateKeyPolicy(policy, 'kms:Sign', undefined).allowed, false);
  });

  it('lets an explicit Deny win, and fails closed on a condition it does not know', () => {
    const deny = (condition: unknown) => ({
      Statement: [
        { Effect: 'Allow', Action: 'kms:*' },
        { Effect: 'Deny', Action: 'kms:Decrypt', Condition: condition },
      ],
    });
    assert.equal(
      evaluateKeyPolicy(
        deny({ StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': IMAGE } }),
        'kms:Decrypt',
        { PCR0: IMAGE },
      ).allowed,
      false,
    );
    assert.equal(
      evaluateKeyPolicy(
        deny({ StringNotEquals: { 'kms:RecipientAttestation:PCR0': IMAGE } }),
        'kms:Decrypt',
        { PCR0: IMAGE },
      ).allowed,
      false,
      'an unknown operator in a Deny denies',
    );
    assert.equal(
      evaluateKeyPolicy(
        {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'kms:Decrypt',
              Condition: { Bool: { 'aws:SecureTransport': 'true' } },
            },
          ],
        },
        'kms:Decrypt',
        { PCR0: IMAGE },
      ).allowed,
      false,
      'an unknown condition in an Allow allows nothing',
    );
  });
});
