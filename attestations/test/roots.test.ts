import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AMD_ROOTS, AWS_NITRO_ROOT_G1, defaultTrustStore } from '../src/evidence/index.js';
import { SNP_PRODUCTS } from '../src/snp/index.js';
import { VECTORS_DIR } from '@veritee/mock/vectors';

const sha256 = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

describe('pinned roots', () => {
  for (const product of SNP_PRODUCTS) {
    for (const name of ['ark', 'ask', 'asvk'] as const) {
      it(`pins the ${product} ${name.toUpperCase()} with its recorded fingerprint`, () => {
        const pinned = AMD_ROOTS[product][name];
        assert.equal(sha256(pinned.pem), pinned.sha256);
        const published = readFileSync(
          join(VECTORS_DIR, 'roots/amd', product.toLowerCase(), `${name}.pem`),
          'utf8',
        );
        assert.equal(sha256(published), pinned.sha256);
      });
    }
  }

  it("pins the AWS Nitro Enclaves Root-G1 with AWS's published fingerprint", () => {
    // Fingerprint as AWS publishes it in the Nitro Enclaves user guide.
    const published = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
    assert.equal(AWS_NITRO_ROOT_G1.sha256, published);
    assert.equal(sha256(AWS_NITRO_ROOT_G1.pem), published);
  });

  it('builds a default store of real anchors only, none simulated', () => {
    const store = defaultTrustStore();
    assert.deepEqual(
      store.snp.map((anchor) => anchor.product),
      ['Milan', 'Genoa', 'Turin'],
    );
    assert.equal(store.nitro.length, 1);
    assert.ok([...store.snp, ...store.nitro].every((anchor) => !anchor.simulated));
  });
});
