import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appraise, detectFormat, type CollateralSource } from '../src/evidence/index.js';
import {
  vectors,
  vectorFile,
  vectorById,
  REAL_SNP_POLICY,
  type Vector,
} from '@veritee/mock/vectors';

function inputOf(vector: Vector) {
  return {
    evidence: vectorFile(vector.evidence),
    endorsement: vector.endorsement === undefined ? undefined : vectorFile(vector.endorsement),
    product: vector.product,
  };
}

describe('appraise', () => {
  for (const vector of vectors) {
    if (vector.expect === 'accept') {
      it(`finds ${vector.id} authentic and reports exactly its published fields`, async () => {
        const verdict = await appraise(inputOf(vector), {
          at: new Date(vector.verify_at),
          policy: { ...REAL_SNP_POLICY, allowDebug: true },
        });
        assert.equal(verdict.verdict, 'accept', verdict.codes.join());
        assert.equal(verdict.format, vector.format);
        assert.equal(verdict.simulated, false);
        for (const [name, value] of Object.entries(vector.fields ?? {}))
          assert.equal(verdict.fields[name], value, name);
        if (vector.reported_tcb !== undefined) {
          const { raw, ...parts } = vector.reported_tcb;
          assert.deepEqual(verdict.fields['reported_tcb'], parts);
          assert.equal(verdict.fields['reported_tcb_raw'], raw);
        }
      });
    } else {
      it(`rejects the tampered ${vector.id}`, async () => {
        const verdict = await appraise(inputOf(vector), {
          at: new Date(vector.verify_at),
          policy: { ...REAL_SNP_POLICY, allowDebug: true },
        });
        assert.equal(verdict.verdict, 'reject');
        assert.deepEqual(verdict.codes, [
          vector.format === 'nitro' ? 'NITRO_COSE_BAD_SIGNATURE' : 'SNP_REPORT_BAD_SIGNATURE',
        ]);
      });
    }
  }

  it('refuses the debug Nitro documents under the default policy with a debug code, and only that', async () => {
    const debug = vectors.filter((candidate) => candidate.debug === true);
    for (const vector of debug.filter((candidate) => candidate.format === 'nitro')) {
      const verdict = await appraise(inputOf(vector), { at: new Date(vector.verify_at) });
      assert.equal(verdict.verdict, 'reject');
      assert.deepEqual(verdict.codes, ['POLICY_DEBUG_ENABLED']);
    }
  });

  it('refuses the debug SEV-SNP reports under the default policy with a debug code among others', async () => {
    const debug = vectors.filter((candidate) => candidate.debug === true);
    const snp = debug.filter((candidate) => candidate.format === 'sev-snp');
    assert.ok(snp.length > 0, 'the vector index holds a debug SEV-SNP report');
    for (const vector of snp) {
      const verdict = await appraise(inputOf(vector), { at: new Date(vector.verify_at) });
      assert.equal(verdict.verdict, 'reject');
      assert.ok(verdict.codes.includes('POLICY_DEBUG_ENABLED'), verdict.codes.join());
    }
  });

  it('accepts the production Nitro document under the default policy', async () => {
    const vector = vectorById('nitro-evervault-2022-10-13-nonce');
    const verdict = await appraise(inputOf(vector), { at: new Date(vector.verify_at) });
    assert.equal(verdict.verdict, 'accept');
  });

  it('gives a clear verdict, not a pass, when no CRL is available', async () => {
    const vector = vectorById('snp-virtee-milan-v2');
    const verdict = await appraise(inputOf(vector), {
      at: new Date(vector.verify_at),
      policy: { snp: { allowSmt: true } },
    });
    assert.equal(verdict.verdict, 'reject');
    assert.deepEqual(verdict.codes, ['POLICY_REVOCATION_UNCHECKED']);
  });

  it('rejects SNP evidence with no endorsement given, carried or fetched', async () => {
    const vector = vectorById('snp-virtee-milan-v2');
    const verdict = await appraise(
      { evidence: vectorFile(vector.evidence) },
      { at: new Date(vector.verify_at) },
    );
    assert.deepEqual(verdict.codes, ['SNP_ENDORSEMENT_MISSING']);
    assert.equal(verdict.fields['measurement'], vector.fields?.['measurement']);
  });

  it('asks the collateral source for the VCEK by product, chip id and TCB, and for the CRL', async () => {
    const vector = vectorById('snp-trustee-azure-genoa-v3');
    const calls: string[] = [];
    const collateral: CollateralSource = {
      vcek(product, chipId, tcb) {
        calls.push(
          `vcek ${product} ${Buffer.from(chipId).toString('hex').slice(0, 8)} ${tcb.toString(16)}`,
        );
        return Promise.resolve(vectorFile(vector.endorsement ?? ''));
      },
      crl(product, kind) {
        calls.push(`crl ${product} ${kind}`);
        return Promise.resolve(undefined);
      },
    };
    const verdict = await appraise(
      { evidence: vectorFile(vector.evidence) },
      { at: new Date(vector.verify_at), policy: REAL_SNP_POLICY, collateral },
    );
    assert.equal(verdict.verdict, 'accept', verdict.codes.join());
    assert.deepEqual(calls, ['vcek Genoa 0506ffba 541700000000000a', 'crl Genoa VCEK']);
  });

  it('needs the product to fetch the VCEK of a version 2 report', async () => {
    const vector = vectorById('snp-virtee-milan-v2');
    const collateral: CollateralSource = {
      vcek: () => Promise.resolve(undefined),
      crl: () => Promise.resolve(undefined),
    };
    const verdict = await appraise(
      { evidence: vectorFile(vector.evidence) },
      { at: new Date(vector.verify_at), collateral },
    );
    assert.deepEqual(verdict.codes, ['SNP_PRODUCT_UNKNOWN']);
  });

  it('names no format for bytes that are neither', async () => {
    assert.equal(detectFormat(new Uint8Array([1, 2, 3])), undefined);
    const verdict = await appraise({ evidence: new Uint8Array(100) }, { at: new Date() });
    assert.deepEqual(
      [verdict.verdict, verdict.format, verdict.codes],
      ['reject', 'unknown', ['EVIDENCE_FORMAT_UNKNOWN']],
    );
  });
});
