import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EvidenceError } from '../../src/index.js';
import { parseSnpReport, serializeSnpReport, SNP_REPORT_SIZE } from '../../src/snp/index.js';
import { snpFields } from '../../src/evidence/appraise.js';
import { vectors, vectorFile, vectorById } from '@veritee/mock/vectors';

const realReports = vectors.filter(
  (vector) => vector.format === 'sev-snp' && vector.expect === 'accept',
);

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset] = value;
  return copy;
}

function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof EvidenceError && error.code === code);
}

describe('parseSnpReport', () => {
  for (const vector of realReports) {
    it(`parses ${vector.id} into the published fields and serializes it back byte for byte`, () => {
      const bytes = vectorFile(vector.evidence);
      const report = parseSnpReport(bytes);
      const fields = snpFields(report);
      for (const [name, value] of Object.entries(vector.fields ?? {}))
        assert.equal(fields[name], value, name);
      assert.equal(fields['reported_tcb_raw'], vector.reported_tcb?.raw);
      assert.deepEqual(serializeSnpReport(report), bytes);
      assert.deepEqual(parseSnpReport(serializeSnpReport(report)), report);
    });
  }

  it('reads the CPUID fields from version 3 on and not before', () => {
    assert.equal(
      parseSnpReport(vectorFile(vectorById('snp-virtee-milan-v2').evidence)).cpuid,
      undefined,
    );
    assert.deepEqual(
      parseSnpReport(vectorFile(vectorById('snp-trustee-azure-genoa-v3').evidence)).cpuid,
      { familyId: 0x19, modelId: 0x11, stepping: 1 },
    );
  });

  it('reads the mitigation vectors of version 5 only', () => {
    const v5 = parseSnpReport(vectorFile(vectorById('snp-teekit-gcp-milan-v5-a').evidence));
    assert.equal(typeof v5.launchMitVector, 'bigint');
    assert.equal(typeof v5.currentMitVector, 'bigint');
    assert.equal(
      parseSnpReport(vectorFile(vectorById('snp-trustee-azure-milan-v3-a').evidence))
        .launchMitVector,
      undefined,
    );
  });

  it('reads the signing key and mask-chip-key flags', () => {
    const vlek = parseSnpReport(vectorFile(vectorById('snp-trustee-milan-vlek-v3').evidence));
    assert.equal(vlek.signingKey, 'VLEK');
    assert.equal(vlek.maskChipKey, false);
    const base = vectorFile(vectorById('snp-virtee-milan-v2').evidence);
    const masked = parseSnpReport(withU32(base, 0x48, 0b10));
    assert.equal(masked.maskChipKey, true);
    assert.equal(masked.signingKey, 'VCEK');
    assert.equal(parseSnpReport(withU32(base, 0x48, 7 << 2)).signingKey, 'NONE');
  });

  describe('when the input is malformed', () => {
    const good = vectorFile(vectorById('snp-virtee-milan-v2').evidence);

    it('rejects a report that is too short or too long', () => {
      for (const length of [0, 1, SNP_REPORT_SIZE - 1, SNP_REPORT_SIZE + 1, 4096]) {
        const bytes = new Uint8Array(length);
        bytes.set(good.subarray(0, Math.min(length, good.length)));
        assertCode(() => parseSnpReport(bytes), 'SNP_REPORT_SIZE');
      }
    });

    it('rejects a report of an unknown version', () => {
      for (const version of [0, 1, 4, 6, 0xffffffff])
        assertCode(
          () => parseSnpReport(withU32(good, 0, version)),
          'SNP_REPORT_VERSION_UNSUPPORTED',
        );
    });

    it('rejects an unknown signature algorithm', () => {
      for (const algo of [0, 2, 0x100])
        assertCode(
          () => parseSnpReport(withU32(good, 0x34, algo)),
          'SNP_SIGNATURE_ALGORITHM_UNSUPPORTED',
        );
    });

    it('rejects a reserved signing key value', () => {
      for (const key of [2, 3, 4, 5, 6])
        assertCode(() => parseSnpReport(withU32(good, 0x48, key << 2)), 'SNP_SIGNING_KEY_UNKNOWN');
    });

    it('rejects reserved flag bits', () => {
      assertCode(() => parseSnpReport(withU32(good, 0x48, 1 << 5)), 'SNP_REPORT_RESERVED_NONZERO');
    });

    const reserved: Record<number, Array<[number, number]>> = {
      2: [
        [0x4c, 0x50],
        [0x188, 0x1a0],
        [0x1eb, 0x1ec],
        [0x1ef, 0x1f0],
        [0x1f8, 0x2a0],
        [0x330, 0x4a0],
      ],
      3: [
        [0x4c, 0x50],
        [0x18b, 0x1a0],
        [0x1eb, 0x1ec],
        [0x1ef, 0x1f0],
        [0x1f8, 0x2a0],
        [0x330, 0x4a0],
      ],
      5: [
        [0x4c, 0x50],
        [0x18b, 0x1a0],
        [0x1eb, 0x1ec],
        [0x1ef, 0x1f0],
        [0x208, 0x2a0],
        [0x330, 0x4a0],
      ],
    };
    const byVersion = {
      2: 'snp-virtee-milan-v2',
      3: 'snp-trustee-azure-milan-v3-a',
      5: 'snp-teekit-gcp-milan-v5-a',
    } as const;
    for (const [version, id] of Object.entries(byVersion)) {
      it(`rejects a non-zero byte in every reserved range of version ${version}`, () => {
        const base = vectorFile(vectorById(id).evidence);
        for (const [start, end] of reserved[Number(version)] ?? []) {
          for (const offset of [start, end - 1])
            assertCode(
              () => parseSnpReport(withByte(base, offset, 0x01)),
              'SNP_REPORT_RESERVED_NONZERO',
            );
        }
      });
    }

    it('accepts fields in version 3 that version 2 reserves', () => {
      const v3 = vectorFile(vectorById('snp-trustee-azure-milan-v3-a').evidence);
      assert.equal(parseSnpReport(withByte(v3, 0x18a, 2)).cpuid?.stepping, 2);
    });
  });
});

describe('serializeSnpReport', () => {
  it('refuses a field of the wrong length', () => {
    const report = parseSnpReport(vectorFile(vectorById('snp-virtee-milan-v2').evidence));
    assertCode(
      () => serializeSnpReport({ ...report, measurement: new Uint8Array(47) }),
      'SNP_REPORT_FIELD_INVALID',
    );
  });

  it('refuses CPUID fields on a version 2 report', () => {
    const report = parseSnpReport(vectorFile(vectorById('snp-virtee-milan-v2').evidence));
    assertCode(
      () => serializeSnpReport({ ...report, cpuid: { familyId: 0x19, modelId: 1, stepping: 1 } }),
      'SNP_REPORT_FIELD_INVALID',
    );
  });
});
