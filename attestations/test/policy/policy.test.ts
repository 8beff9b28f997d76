import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/index.js';
import { parsePolicy, DEFAULT_POLICY } from '../../src/policy/index.js';

function assertBadField(value: unknown, field: string): void {
  assert.throws(
    () => parsePolicy(value),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.code === 'POLICY_INVALID' &&
      error.message.includes(`field ${field} `),
    `expected the error to name ${field}`,
  );
}

describe('parsePolicy', () => {
  it('accepts a complete policy and returns it unchanged', () => {
    const policy = {
      format: 'veritee.policy/v1',
      id: 'prod',
      version: 3,
      allowDebug: false,
      allowUncheckedRevocation: true,
      maxEvidenceAgeSeconds: 300,
      snp: {
        measurements: ['ab'.repeat(48)],
        products: ['Milan', 'Genoa'],
        vmpls: [0],
        minimumTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
        allowSmt: true,
        allowMigrationAgent: false,
        reportData: '00'.repeat(64),
      },
      nitro: {
        pcrs: [{ pcr0: '11'.repeat(48), pcr8: '22'.repeat(48) }],
        nonce: 'abcd',
        publicKey: '',
        userData: 'ff',
      },
    };
    assert.deepEqual(parsePolicy(policy), policy);
    assert.deepEqual(parsePolicy({}), {});
    assert.deepEqual(parsePolicy(DEFAULT_POLICY), DEFAULT_POLICY);
  });

  // Each error names the field an operator must fix.
  const cases: Array<[string, unknown, string]> = [
    ['a non-object', 'strict', 'policy'],
    ['an unknown top-level field', { allowDebugg: true }, 'policy.allowDebugg'],
    ['another format tag', { format: 'veritee.policy/v2' }, 'format'],
    ['a string boolean', { allowDebug: 'false' }, 'allowDebug'],
    ['a zero version', { version: 0 }, 'version'],
    ['a negative age', { maxEvidenceAgeSeconds: -5 }, 'maxEvidenceAgeSeconds'],
    ['a short measurement', { snp: { measurements: ['abcd'] } }, 'snp.measurements[0]'],
    [
      'a 0x-prefixed measurement',
      { snp: { measurements: ['0x' + 'ab'.repeat(48)] } },
      'snp.measurements[0]',
    ],
    ['an unknown product', { snp: { products: ['Milan', 'Rome'] } }, 'snp.products[1]'],
    ['a VMPL of 4', { snp: { vmpls: [4] } }, 'snp.vmpls[0]'],
    ['a TCB level of 256', { snp: { minimumTcb: { snp: 256 } } }, 'snp.minimumTcb.snp'],
    [
      'an unknown TCB component',
      { snp: { minimumTcb: { firmware: 1 } } },
      'snp.minimumTcb.firmware',
    ],
    ['report data of 32 bytes', { snp: { reportData: '00'.repeat(32) } }, 'snp.reportData'],
    ['an empty PCR set', { nitro: { pcrs: [{}] } }, 'nitro.pcrs[0]'],
    [
      'a PCR that is not hex',
      { nitro: { pcrs: [{ pcr0: 'zz'.repeat(48) }] } },
      'nitro.pcrs[0].pcr0',
    ],
    [
      'PCR 3, which images do not pin',
      { nitro: { pcrs: [{ pcr3: '00'.repeat(48) }] } },
      'nitro.pcrs[0].pcr3',
    ],
    ['an odd-length nonce', { nitro: { nonce: 'abc' } }, 'nitro.nonce'],
  ];
  for (const [name, value, field] of cases) {
    it(`rejects ${name}, naming ${field}`, () => assertBadField(value, field));
  }
});
