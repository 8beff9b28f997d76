import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceSignatures } from '@veritee/attestations/evidence';
import { DEFAULT_POLICY } from '@veritee/attestations/policy';
import { AT, DEV_PKI_PATH, simulator, trustWithDev } from '@veritee/mock';
import { createInlineAppraiser, createPooledAppraiser } from '../../src/service/appraiser.js';

describe('createPooledAppraiser', () => {
  const pooled = createPooledAppraiser({
    workers: 2,
    trust: { allowSimulated: true, devPkiPath: DEV_PKI_PATH },
  });
  const strict = createPooledAppraiser({ workers: 1, trust: { allowSimulated: false } });
  const inline = createInlineAppraiser({ trust: trustWithDev, allowSimulated: true });
  after(() => Promise.all([pooled.close(), strict.close()]));

  it('reaches the same verdicts as appraising inline, for accepted and rejected evidence alike', async () => {
    const cases = [
      (await simulator.snp({ at: AT })).evidence,
      (await simulator.snp({ at: AT, debug: true })).evidence,
      (await simulator.nitro({ at: AT })).evidence,
      new TextEncoder().encode('not evidence'),
    ];
    const inWorkers = await Promise.all(
      cases.map((evidence) => pooled.appraise(evidence, AT, DEFAULT_POLICY)),
    );
    const inThread = await Promise.all(
      cases.map((evidence) => inline.appraise(evidence, AT, DEFAULT_POLICY)),
    );
    assert.deepEqual(inWorkers, inThread);
    assert.deepEqual(
      inWorkers.map((verdict) => verdict.verdict),
      ['accept', 'reject', 'accept', 'reject'],
    );
  });

  it('appraises evidence seen before on the calling thread to the same verdicts, never reusing one', async () => {
    const accepted = (await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(5) }))
      .evidence;
    const debug = (await simulator.snp({ at: AT, debug: true })).evidence;
    // Let the calling thread's trust store be built, then show each evidence once to the pool.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const first = await Promise.all(
      [accepted, debug].map((evidence) => pooled.appraise(evidence, AT, DEFAULT_POLICY)),
    );
    const again = await Promise.all(
      [accepted, debug].map((evidence) => pooled.appraise(evidence, AT, DEFAULT_POLICY)),
    );
    assert.deepEqual(again, first);
    assert.deepEqual(
      first.map((verdict) => verdict.verdict),
      ['accept', 'reject'],
    );
    // Each appraisal is made anew: another policy or another time gives another verdict.
    const debugAllowed = await pooled.appraise(debug, AT, { ...DEFAULT_POLICY, allowDebug: true });
    assert.equal(debugAllowed.verdict, 'accept');
    const muchLater = await pooled.appraise(
      accepted,
      new Date('2099-01-01T00:00:00Z'),
      DEFAULT_POLICY,
    );
    assert.equal(muchLater.verdict, 'reject');
  });

  it("verifies a quote's signature once: receipts after the first, appraised here, take the worker's result", async () => {
    const accepted = (await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(7) }))
      .evidence;
    const forged = (await simulator.snp({ at: AT, reportData: new Uint8Array(64).fill(8) }))
      .evidence;
    forged[0x2a0 + 3] = (forged[0x2a0 + 3] as number) ^ 1; // inside the signature's r
    await new Promise((resolve) => setTimeout(resolve, 200));
    const computedHere: boolean[] = [];
    const unwatch = evidenceSignatures.watch((_, verified) => computedHere.push(verified));
    try {
      // Each evidence four times at once: the first goes to a worker, the rest wait for it.
      const verdicts = await Promise.all(
        [accepted, forged].flatMap((evidence) =>
          Array.from({ length: 4 }, () => pooled.appraise(evidence, AT, DEFAULT_POLICY)),
        ),
      );
      const fresh = await Promise.all(
        [accepted, forged].map((evidence) => inline.appraise(evidence, AT, DEFAULT_POLICY)),
      );
      assert.deepEqual(
        verdicts.map((verdict) => [verdict.verdict, verdict.codes]),
        [
          ...Array.from({ length: 4 }, () => ['accept', []]),
          ...Array.from({ length: 4 }, () => ['reject', fresh[1]!.codes]),
        ],
      );
      assert.equal(fresh[1]!.codes.length, 1);
      // The inline appraiser above found both results kept; nothing was verified on this thread.
      assert.deepEqual(computedHere, []);
    } finally {
      unwatch();
    }
  });

  it('refuses simulated evidence in workers not told to allow it: they hold no dev roots', async () => {
    const verdict = await strict.appraise(
      (await simulator.snp({ at: AT })).evidence,
      AT,
      DEFAULT_POLICY,
    );
    assert.deepEqual([verdict.verdict, verdict.codes], ['reject', ['SNP_CHAIN_UNTRUSTED']]);
  });
});
