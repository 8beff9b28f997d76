/**
 * Remembered signature results: what a memo may keep (whether bytes verify
 * under a key) and what it must not (anything about time). Evidence seen
 * before is accepted again without a public-key operation, yet expires,
 * changes and swaps are refused exactly as on first sight.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AT, simulator, trustWithDev } from '@veritee/mock';
import { appraise, chainSignatures, evidenceSignatures, parseCrl } from '../src/evidence/index.js';
import { createMemo } from '../src/memo.js';

const options = (at: Date) => ({ at, trust: trustWithDev, allowSimulated: true, policy: {} });

describe('remembered signatures', () => {
  it('accepts a quote seen before without verifying it again, and forgets nothing about time', async () => {
    const { evidence, endorsement } = await simulator.snp({
      at: AT,
      reportData: new Uint8Array(64).fill(7),
    });
    evidenceSignatures.clear();
    assert.equal((await appraise({ evidence }, options(AT))).verdict, 'accept');
    const remembered = evidenceSignatures.size;
    assert.ok(remembered >= 1);
    // Seen before: the memo answers; no new entry is made.
    assert.equal((await appraise({ evidence }, options(AT))).verdict, 'accept');
    assert.equal(evidenceSignatures.size, remembered);
    // The same bytes after the VCEK expired: refused, memo or not.
    const late = new Date(endorsement.notAfter.getTime() + 1000);
    const expired = await appraise({ evidence }, options(late));
    assert.equal(expired.verdict, 'reject');
    assert.ok(
      expired.codes.includes('SNP_CERT_EXPIRED') || expired.codes.includes('SNP_CRL_INVALID'),
    );
  });

  it('refuses a remembered quote whose signed bytes or signature changed', async () => {
    const { evidence } = await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(9) });
    assert.equal((await appraise({ evidence }, options(AT))).verdict, 'accept');
    // 0x50: report data, inside the signed part; 0x2a0: the first byte of r.
    for (const offset of [0x50, 0x2a0]) {
      const changed = new Uint8Array(evidence);
      changed[offset]! ^= 0x01;
      const verdict = await appraise({ evidence: changed }, options(AT));
      assert.equal(verdict.verdict, 'reject', `byte ${offset} changed`);
      assert.ok(verdict.codes.includes('SNP_REPORT_BAD_SIGNATURE'), verdict.codes.join());
    }
  });

  it('parses the same CRL bytes once, and checks a changed CRL afresh', async () => {
    const { crls } = await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(3) });
    const [der] = crls;
    assert.ok(der);
    assert.equal(parseCrl(der), parseCrl(new Uint8Array(der)));
    const changed = new Uint8Array(der);
    changed[changed.length - 5]! ^= 0x01; // inside the signature
    const crl = parseCrl(changed);
    assert.notEqual(crl, parseCrl(der));
    assert.notEqual(crl.fingerprint, parseCrl(der).fingerprint);
    const { evidence } = await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(4) });
    chainSignatures.clear();
    assert.equal((await appraise({ evidence, crls: [der] }, options(AT))).verdict, 'accept');
    const verdict = await appraise({ evidence, crls: [changed] }, options(AT));
    assert.equal(verdict.verdict, 'reject');
    assert.ok(verdict.codes.includes('SNP_CRL_INVALID'), verdict.codes.join());
  });

  it('stays within its bound and answers the same after clearing', () => {
    const memo = createMemo<boolean>(3);
    let calls = 0;
    const verify = (result: boolean) => () => {
      calls++;
      return result;
    };
    for (let index = 0; index < 10; index++) memo.remember(`k${index}`, verify(index % 2 === 0));
    assert.ok(memo.size <= 3);
    assert.equal(calls, 10);
    assert.equal(memo.remember('k9', verify(false)), false, 'the newest entry is kept');
    assert.equal(calls, 10);
    assert.equal(memo.remember('k0', verify(true)), true, 'an evicted entry is verified again');
    assert.equal(calls, 11);
  });

  it('forgets the links of one certificate and keeps the others', () => {
    const memo = createMemo<boolean>(10);
    let calls = 0;
    const verify = () => {
      calls++;
      return true;
    };
    for (const key of ['cert:leaf:ica', 'cert:ica:root', 'cert:leafx:ica'])
      memo.remember(key, verify);
    memo.forget('cert:leaf:');
    assert.equal(memo.size, 2);
    memo.remember('cert:ica:root', verify);
    memo.remember('cert:leafx:ica', verify);
    assert.equal(calls, 3, 'the other links are still remembered');
    memo.remember('cert:leaf:ica', verify);
    assert.equal(calls, 4, "the forgotten certificate's link is verified again");
  });

  it('tells a watcher of each value it computes, keeps values computed elsewhere without telling', () => {
    const memo = createMemo<boolean>(2);
    const told: Array<[string, boolean]> = [];
    const unwatch = memo.watch((key, value) => told.push([key, value]));
    memo.remember('a', () => true);
    memo.remember('a', () => false);
    memo.keep('b', false);
    assert.equal(
      memo.remember('b', () => true),
      false,
      'a kept value is answered as if computed here',
    );
    memo.keep('c', true);
    assert.ok(memo.size <= 2, 'keeping stays within the bound');
    unwatch();
    memo.remember('d', () => true);
    assert.deepEqual(told, [['a', true]]);
  });
});
