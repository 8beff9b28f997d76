import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, toHex, UpstreamError } from '@veritee/attestations';
import { appraise } from '@veritee/attestations/evidence';
import { encodeCbor, decodeCbor } from '@veritee/attestations/nitro';
import { AT, simulator, trustWithDev } from '@veritee/mock';
import { createConfigfsSnpTee } from '../../src/tee/snp-configfs.js';
import { createNsmTee, type NsmTransport } from '../../src/tee/nitro-nsm.js';
import { createSimulatedTee } from '../../src/tee/simulated.js';
import { createConfigfsStandIn } from '@veritee/mock/tee';

const reportData = Uint8Array.from({ length: 64 }, (_, index) => index);
const appraiseSim = (evidence: Uint8Array, policy = {}) =>
  appraise({ evidence }, { at: AT, trust: trustWithDev, allowSimulated: true, policy });

describe('configfs-tsm SEV-SNP provider', () => {
  it('writes inblob, reads outblob and auxblob, and removes its entry', async () => {
    const standIn = createConfigfsStandIn(simulator, AT);
    const tee = createConfigfsSnpTee({ root: '/cfg/tsm/report', ops: standIn.ops, privlevel: 0 });
    const evidence = await tee.quote({ reportData });
    const verdict = await appraiseSim(evidence);
    assert.equal(verdict.verdict, 'accept', verdict.codes.join());
    assert.equal(verdict.fields['report_data'], toHex(reportData));
    assert.deepEqual(
      standIn.log.map((line) =>
        line.split(' ')[0] === 'mkdir' || line.split(' ')[0] === 'rmdir'
          ? line.split(' ')[0]
          : line,
      ),
      [
        'mkdir',
        'read provider',
        'write privlevel',
        'read generation',
        'write inblob',
        'read outblob',
        'read auxblob',
        'read generation',
        'rmdir',
      ],
    );
    assert.equal(standIn.entries.size, 0);
  });

  it('fails when another writer raced it, or the provider is not sev_guest, and still cleans up', async () => {
    const raced = createConfigfsStandIn(simulator, AT, { racer: true });
    await assert.rejects(
      createConfigfsSnpTee({ root: '/cfg', ops: raced.ops }).quote({ reportData }),
      (error: unknown) => error instanceof UpstreamError && error.code === 'TEE_QUOTE_FAILED',
    );
    assert.equal(raced.entries.size, 0);
    const tdx = createConfigfsStandIn(simulator, AT, { provider: 'tdx_guest' });
    await assert.rejects(
      createConfigfsSnpTee({ root: '/cfg', ops: tdx.ops }).quote({ reportData }),
      (error: unknown) => error instanceof ConfigError && error.code === 'TEE_UNAVAILABLE',
    );
  });

  it('reports a missing configfs-tsm as TEE_UNAVAILABLE', async () => {
    const tee = createConfigfsSnpTee({ root: '/nonexistent/veritee/tsm/report' });
    await assert.rejects(
      tee.quote({ reportData }),
      (error: unknown) => error instanceof ConfigError && error.code === 'TEE_UNAVAILABLE',
    );
  });
});

describe('NSM Nitro provider', () => {
  // A stand-in for /dev/nsm: answers the NSM API's CBOR protocol with simulated documents.
  const responder: NsmTransport = async (request) => {
    const body = decodeCbor(request, { maxDepth: 3, code: 'TEST' }) as Map<
      string,
      Map<string, Uint8Array | null>
    >;
    const attestation = body.get('Attestation');
    if (attestation === undefined) return encodeCbor(new Map([['Error', 'InvalidOperation']]));
    const document = await simulator.nitro({
      at: AT,
      userData: attestation.get('user_data') ?? null,
      nonce: attestation.get('nonce') ?? null,
      publicKey: attestation.get('public_key') ?? null,
    });
    return encodeCbor(new Map([['Attestation', new Map([['document', document.evidence]])]]));
  };

  it('asks the NSM for a document carrying user data, nonce and public key', async () => {
    const nonce = new Uint8Array(32).fill(9);
    const publicKey = new Uint8Array(32).fill(4);
    const evidence = await createNsmTee(responder).quote({ reportData, nonce, publicKey });
    const verdict = await appraiseSim(evidence, {
      nitro: { userData: toHex(reportData), nonce: toHex(nonce), publicKey: toHex(publicKey) },
    });
    assert.equal(verdict.verdict, 'accept', verdict.codes.join());
  });

  it('turns an NSM error or a malformed answer into TEE_QUOTE_FAILED', async () => {
    for (const answer of [
      encodeCbor(new Map([['Error', 'InputTooLarge']])),
      new Uint8Array([0xff]),
      encodeCbor(new Map([['Attestation', new Map()]])),
    ]) {
      await assert.rejects(
        createNsmTee(() => Promise.resolve(answer)).quote({ reportData }),
        (error: unknown) => error instanceof UpstreamError && error.code === 'TEE_QUOTE_FAILED',
      );
    }
  });
});

describe('simulated provider', () => {
  it('quotes in both formats, marked simulated', async () => {
    for (const kind of ['sev-snp', 'nitro'] as const) {
      const tee = createSimulatedTee({ simulator, kind, clock: () => AT });
      const verdict = await appraiseSim(await tee.quote({ reportData }));
      assert.deepEqual(
        [verdict.verdict, verdict.format, verdict.simulated],
        ['accept', kind, true],
      );
    }
  });
});
