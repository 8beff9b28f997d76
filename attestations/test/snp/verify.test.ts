import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../../src/index.js';
import { defaultTrustStore, parseCertificate, type TrustStore } from '../../src/evidence/index.js';
import { parseSnpReport, verifySnp, type SnpProduct } from '../../src/snp/index.js';
import { vectors, vectorFile, vectorById, type Vector } from '@veritee/mock/vectors';

const realReports = vectors.filter(
  (vector) => vector.format === 'sev-snp' && vector.expect === 'accept',
);

function load(vector: Vector) {
  return {
    report: parseSnpReport(vectorFile(vector.evidence)),
    endorsement: parseCertificate(vectorFile(vector.endorsement ?? '')),
  };
}

function assertChainCode(fn: () => unknown, code: string): void {
  assert.throws(
    fn,
    (error: unknown) => error instanceof ChainError && error.code === code,
    `expected ${code}`,
  );
}

describe('verifySnp', () => {
  for (const vector of realReports) {
    it(`verifies ${vector.id} against the real ${vector.product} roots at ${vector.verify_at}`, () => {
      const { report, endorsement } = load(vector);
      const verified = verifySnp(report, endorsement, {
        trust: defaultTrustStore(),
        at: new Date(vector.verify_at),
      });
      assert.equal(verified.product, vector.product);
      assert.equal(verified.simulated, false);
      assert.equal(verified.revocation, 'unavailable');
      const { raw: _raw, ...expectedTcb } = vector.reported_tcb ?? { raw: '' };
      assert.deepEqual(verified.reportedTcb, expectedTcb);
      assert.equal(verified.claims.kind, vector.fields?.['signing_key']);
    });
  }

  const vcek = vectorById('snp-trustee-azure-milan-v3-a');
  const at = new Date(vcek.verify_at);

  it('rejects evidence when the caller expects another product', () => {
    const { report, endorsement } = load(vcek);
    assertChainCode(
      () => verifySnp(report, endorsement, { trust: defaultTrustStore(), at, product: 'Genoa' }),
      'SNP_PRODUCT_MISMATCH',
    );
  });

  it("rejects a report whose CPUID names another product than the chain's", () => {
    const genoa = load(vectorById('snp-trustee-azure-genoa-v3'));
    const { report } = load(vcek);
    const relabelled = { ...report, cpuid: genoa.report.cpuid };
    assertChainCode(
      () => verifySnp(relabelled, load(vcek).endorsement, { trust: defaultTrustStore(), at }),
      'SNP_PRODUCT_MISMATCH',
    );
  });

  it('rejects a chain when no trusted anchor issued the endorsement', () => {
    const { report, endorsement } = load(vcek);
    const empty: TrustStore = { snp: [], nitro: [] };
    assertChainCode(
      () => verifySnp(report, endorsement, { trust: empty, at }),
      'SNP_CHAIN_UNTRUSTED',
    );
    const genoaOnly: TrustStore = {
      snp: defaultTrustStore().snp.filter((anchor) => anchor.product === 'Genoa'),
      nitro: [],
    };
    assertChainCode(
      () => verifySnp(report, endorsement, { trust: genoaOnly, at }),
      'SNP_CHAIN_UNTRUSTED',
    );
  });

  it('rejects an endorsement that is not yet valid or has expired', () => {
    const { report, endorsement } = load(vcek);
    assertChainCode(
      () =>
        verifySnp(report, endorsement, {
          trust: defaultTrustStore(),
          at: new Date(endorsement.notBefore.getTime() - 1000),
        }),
      'SNP_CERT_NOT_YET_VALID',
    );
    const vlek = load(vectorById('snp-trustee-milan-vlek-v3'));
    assertChainCode(
      () =>
        verifySnp(vlek.report, vlek.endorsement, {
          trust: defaultTrustStore(),
          at: new Date('2025-12-11T00:00:00Z'),
        }),
      'SNP_CERT_EXPIRED',
    );
  });

  it("rejects another chip's VCEK", () => {
    const { report } = load(vcek);
    const other = load(vectorById('snp-teekit-gcp-milan-v5-a')).endorsement;
    assert.throws(
      () => verifySnp(report, other, { trust: defaultTrustStore(), at }),
      (error: unknown) =>
        error instanceof ChainError &&
        ['SNP_CHIP_ID_MISMATCH', 'SNP_TCB_MISMATCH'].includes(error.code),
    );
  });

  it("rejects a VCEK whose hwID differs from the report's chip id", () => {
    const { report, endorsement } = load(vcek);
    const chipId = Uint8Array.from(report.chipId);
    chipId[0] = (chipId[0] ?? 0) ^ 1;
    assertChainCode(
      () => verifySnp({ ...report, chipId }, endorsement, { trust: defaultTrustStore(), at }),
      'SNP_CHIP_ID_MISMATCH',
    );
  });

  it('skips the chip id comparison when the report masks the chip id, and still checks the signature', () => {
    const { report, endorsement } = load(vcek);
    assertChainCode(
      () =>
        verifySnp({ ...report, maskChipKey: true, chipId: new Uint8Array(64) }, endorsement, {
          trust: defaultTrustStore(),
          at,
        }),
      'SNP_REPORT_BAD_SIGNATURE',
    );
  });

  it('rejects a reported TCB that differs from the endorsement', () => {
    const { report, endorsement } = load(vcek);
    for (const delta of [1n, 1n << 8n, 1n << 48n, 1n << 56n, 1n << 24n]) {
      assertChainCode(
        () =>
          verifySnp({ ...report, reportedTcb: report.reportedTcb ^ delta }, endorsement, {
            trust: defaultTrustStore(),
            at,
          }),
        'SNP_TCB_MISMATCH',
      );
    }
  });

  it('rejects a VCEK offered for a VLEK-signed report and the reverse', () => {
    const vlek = load(vectorById('snp-trustee-milan-vlek-v3'));
    const vcekPair = load(vcek);
    assertChainCode(
      () => verifySnp(vlek.report, vcekPair.endorsement, { trust: defaultTrustStore(), at }),
      'SNP_ENDORSEMENT_KIND_MISMATCH',
    );
    assertChainCode(
      () => verifySnp(vcekPair.report, vlek.endorsement, { trust: defaultTrustStore(), at }),
      'SNP_ENDORSEMENT_KIND_MISMATCH',
    );
  });

  it('rejects a report that claims no signing key', () => {
    const { report, endorsement } = load(vcek);
    assertChainCode(
      () =>
        verifySnp({ ...report, signingKey: 'NONE' }, endorsement, {
          trust: defaultTrustStore(),
          at,
        }),
      'SNP_REPORT_UNSIGNED',
    );
  });

  it('rejects a signature whose high bytes are not zero', () => {
    const { report, endorsement } = load(vcek);
    const signatureR = Uint8Array.from(report.signatureR);
    signatureR[60] = 1;
    assertChainCode(
      () => verifySnp({ ...report, signatureR }, endorsement, { trust: defaultTrustStore(), at }),
      'SNP_REPORT_BAD_SIGNATURE',
    );
  });

  it('rejects a certificate that is not a VCEK or VLEK as the endorsement', () => {
    const { report } = load(vcek);
    const ask = defaultTrustStore().snp.find(
      (anchor) => anchor.product === ('Milan' satisfies SnpProduct),
    )?.ask;
    assert.ok(ask);
    assert.throws(
      () => verifySnp(report, ask, { trust: defaultTrustStore(), at }),
      (error: unknown) => (error as { code?: string }).code === 'SNP_ENDORSEMENT_EXTENSION_INVALID',
    );
  });
});
