import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/index.js';
import { appraise } from '../../src/evidence/index.js';
import { parseNitroDocument, serializeNitroDocument } from '../../src/nitro/index.js';
import { simulatedPcr } from '../../src/sim/index.js';
import { AT, simulator, trustWithDev } from '@veritee/mock';

describe('simulated Nitro evidence', () => {
  for (const tagged of [false, true]) {
    it(`round-trips and verifies a ${tagged ? 'tagged' : 'untagged'} document, marked simulated`, async () => {
      const nonce = new Uint8Array(32).fill(5);
      const userData = new Uint8Array(64).fill(6);
      const publicKey = new Uint8Array(97).fill(4);
      const { evidence, document } = await simulator.nitro({
        at: AT,
        nonce,
        userData,
        publicKey,
        tagged,
      });
      assert.equal(evidence[0], tagged ? 0xd2 : 0x84);
      assert.deepEqual(parseNitroDocument(evidence), document);
      assert.deepEqual(serializeNitroDocument(parseNitroDocument(evidence)), evidence);
      const verdict = await appraise(
        { evidence },
        {
          at: AT,
          trust: trustWithDev,
          allowSimulated: true,
          policy: {
            nitro: { nonce: toHex(nonce), userData: toHex(userData), publicKey: toHex(publicKey) },
          },
        },
      );
      assert.deepEqual([verdict.verdict, verdict.simulated, verdict.codes], ['accept', true, []]);
      assert.equal(verdict.fields['pcr0'], toHex(simulatedPcr(0)));
      assert.equal(verdict.fields['timestamp_ms'], AT.getTime());
    });
  }

  it('is rejected with the real roots only, and with the dev roots but without allowSimulated', async () => {
    const { evidence } = await simulator.nitro({ at: AT });
    assert.deepEqual((await appraise({ evidence }, { at: AT })).codes, ['NITRO_CHAIN_UNTRUSTED']);
    assert.deepEqual((await appraise({ evidence }, { at: AT, trust: trustWithDev })).codes, [
      'NITRO_SIMULATED_NOT_ALLOWED',
    ]);
  });

  it("is shaped like AWS's: four-certificate cabundle, P-384, no key identifiers, a three-hour leaf", async () => {
    const { document, leaf } = await simulator.nitro({ at: AT });
    assert.equal(document.payload.cabundle.length, 4);
    assert.equal(document.payload.pcrs.size, 16);
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(leaf.extensions.has('2.5.29.14'), false);
    assert.equal(leaf.extensions.has('2.5.29.35'), false);
    assert.equal(leaf.notAfter.getTime() - leaf.notBefore.getTime(), 3 * 3_600_000);
  });

  it('reports all-zero PCRs in debug mode and caller-chosen PCRs otherwise', async () => {
    const debug = await simulator.nitro({ at: AT, debug: true });
    assert.ok(
      [...debug.document.payload.pcrs.values()].every((pcr) => pcr.every((byte) => byte === 0)),
    );
    const chosen = await simulator.nitro({
      at: AT,
      pcrs: { 0: new Uint8Array(48).fill(1), 8: new Uint8Array(48).fill(8) },
    });
    assert.equal(chosen.document.payload.pcrs.get(8)?.[0], 8);
    const verdict = await appraise(
      { evidence: chosen.evidence },
      {
        at: AT,
        trust: trustWithDev,
        allowSimulated: true,
        policy: { nitro: { pcrs: [{ pcr0: '01'.repeat(48), pcr8: '08'.repeat(48) }] } },
      },
    );
    assert.equal(verdict.verdict, 'accept');
  });
});
