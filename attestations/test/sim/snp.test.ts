import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../../src/index.js';
import {
  appraise,
  defaultTrustStore,
  parseCertificate,
  parseCrl,
} from '../../src/evidence/index.js';
import {
  parseSnpCertTable,
  parseSnpReport,
  serializeSnpReport,
  SNP_PRODUCTS,
  SNP_REPORT_SIZE,
  verifySnp,
} from '../../src/snp/index.js';
import { SIM_DEFAULT_MEASUREMENT, simulatedChipId } from '../../src/sim/index.js';
import { AT, devPki, simulator, trustWithDev } from '@veritee/mock';
import { vectorById, vectorFile } from '@veritee/mock/vectors';

describe('simulated SEV-SNP evidence', () => {
  for (const product of SNP_PRODUCTS) {
    for (const version of [2, 3, 5] as const) {
      for (const signingKey of ['VCEK', 'VLEK'] as const) {
        it(`round-trips and verifies a ${product} v${version} report signed by a ${signingKey}, marked simulated`, async () => {
          const simulated = await simulator.snp({
            at: AT,
            product,
            version,
            signingKey,
            reportData: new Uint8Array(64).fill(7),
          });
          assert.equal(simulated.reportBytes.length, SNP_REPORT_SIZE);
          assert.deepEqual(parseSnpReport(serializeSnpReport(simulated.report)), simulated.report);
          assert.deepEqual(parseSnpReport(simulated.reportBytes), simulated.report);
          const verdict = await appraise(
            { evidence: simulated.evidence },
            { at: AT, trust: trustWithDev, allowSimulated: true },
          );
          assert.deepEqual(
            [verdict.verdict, verdict.simulated, verdict.codes],
            ['accept', true, []],
          );
          assert.equal(verdict.fields['version'], version);
          assert.equal(verdict.fields['report_data'], '07'.repeat(64));
          assert.equal(verdict.fields['product'], product);
        });
      }
    }
  }

  it('is rejected with the real roots only, and with the dev roots but without allowSimulated', async () => {
    const { evidence } = await simulator.snp({ at: AT });
    assert.deepEqual((await appraise({ evidence }, { at: AT })).codes, ['SNP_CHAIN_UNTRUSTED']);
    assert.deepEqual((await appraise({ evidence }, { at: AT, trust: trustWithDev })).codes, [
      'SNP_SIMULATED_NOT_ALLOWED',
    ]);
    assert.deepEqual((await appraise({ evidence }, { at: AT, allowSimulated: true })).codes, [
      'SNP_CHAIN_UNTRUSTED',
    ]);
  });

  it('lays out the caller-chosen fields where the ABI puts them', async () => {
    const reportData = Uint8Array.from({ length: 64 }, (_, index) => index);
    const measurement = new Uint8Array(48).fill(0xaa);
    const { reportBytes } = await simulator.snp({
      at: AT,
      version: 3,
      product: 'Genoa',
      reportData,
      measurement,
      vmpl: 2,
      policy: 0x30000n,
      debug: true,
    });
    const view = new DataView(reportBytes.buffer, reportBytes.byteOffset);
    assert.equal(view.getUint32(0x00, true), 3);
    assert.equal(view.getBigUint64(0x08, true), 0xb0000n);
    assert.equal(view.getUint32(0x30, true), 2);
    assert.equal(view.getUint32(0x34, true), 1);
    assert.deepEqual(reportBytes.subarray(0x50, 0x90), reportData);
    assert.deepEqual(reportBytes.subarray(0x90, 0xc0), measurement);
    assert.deepEqual([...reportBytes.subarray(0x188, 0x18b)], [0x19, 0x11, 0x01]);
    assert.deepEqual(reportBytes.subarray(0x1a0, 0x1e0), simulatedChipId('Genoa'));
  });

  it('zeroes the chip id when masked, and still verifies', async () => {
    const { evidence, report } = await simulator.snp({ at: AT, maskChipKey: true });
    assert.ok(report.chipId.every((byte) => byte === 0));
    assert.equal(
      (await appraise({ evidence }, { at: AT, trust: trustWithDev, allowSimulated: true })).verdict,
      'accept',
    );
  });

  it('issues endorsements with the OIDs and encodings of a real VCEK', async () => {
    const { endorsement } = await simulator.snp({ at: AT, product: 'Milan' });
    const real = parseCertificate(vectorFile(vectorById('snp-virtee-milan-v2').endorsement ?? ''));
    const amdOids = (oids: Iterable<string>) =>
      [...oids].filter((oid) => oid.startsWith('1.3.6.1.4.1.3704.')).sort();
    assert.deepEqual(amdOids(endorsement.extensions.keys()), amdOids(real.extensions.keys()));
    assert.deepEqual(
      endorsement.extensions.get('1.3.6.1.4.1.3704.1.1'),
      real.extensions.get('1.3.6.1.4.1.3704.1.1'),
    );
    assert.equal(
      Buffer.from(endorsement.extensions.get('1.3.6.1.4.1.3704.1.2') ?? []).toString('latin1'),
      '\x16\x08Milan-B0',
    );
    assert.equal(endorsement.extensions.get('1.3.6.1.4.1.3704.1.4')?.length, 64);
    assert.equal(endorsement.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(endorsement.signatureAlgorithm, real.signatureAlgorithm);
    assert.equal(devPki.snp.Milan.ask.certificate.signatureAlgorithm, 'RSA-PSS');
  });

  it('gives Turin an 8-byte hwID and an FMC level, checked against the report', async () => {
    const { endorsement, report } = await simulator.snp({
      at: AT,
      product: 'Turin',
      tcb: { fmc: 2, bootloader: 3, tee: 1, snp: 9, microcode: 80 },
    });
    assert.equal(endorsement.extensions.get('1.3.6.1.4.1.3704.1.4')?.length, 8);
    const verified = verifySnp(report, endorsement, {
      trust: trustWithDev,
      at: AT,
      allowSimulated: true,
    });
    assert.deepEqual(verified.reportedTcb, {
      fmc: 2,
      bootloader: 3,
      tee: 1,
      snp: 9,
      microcode: 80,
    });
    const other = await simulator.snp({
      at: AT,
      product: 'Turin',
      tcb: { fmc: 2, bootloader: 3, tee: 1, snp: 9, microcode: 80 },
      endorsement: { tcb: { fmc: 3, bootloader: 3, tee: 1, snp: 9, microcode: 80 } },
    });
    assert.throws(
      () =>
        verifySnp(other.report, other.endorsement, {
          trust: trustWithDev,
          at: AT,
          allowSimulated: true,
        }),
      (error: unknown) => error instanceof ChainError && error.code === 'SNP_TCB_MISMATCH',
    );
  });

  it('carries VCEK, ASK, ARK and the ARK-signed CRL in its certificate table', async () => {
    const { certTable, endorsement } = await simulator.snp({ at: AT });
    const entries = parseSnpCertTable(certTable);
    assert.deepEqual(
      entries.map((entry) => entry.kind),
      ['VCEK', 'ASK', 'ARK', 'CRL'],
    );
    assert.deepEqual(entries[0]?.data, endorsement.der);
    assert.deepEqual(entries[2]?.data, devPki.snp.Milan.ark.certificate.der);
    assert.equal(parseCrl(entries[3]!.data).issuer.includes('ARK-Milan'), true);
  });
});

describe('verifySnp with CRLs', () => {
  it('records the revocation check when the ARK CRL verifies', async () => {
    const { report, endorsement, crls } = await simulator.snp({ at: AT });
    const verified = verifySnp(report, endorsement, {
      trust: trustWithDev,
      at: AT,
      allowSimulated: true,
      crls: crls.map((crl) => parseCrl(crl)),
    });
    assert.equal(verified.revocation, 'checked');
    assert.equal(
      verifySnp(report, endorsement, { trust: trustWithDev, at: AT, allowSimulated: true })
        .revocation,
      'unavailable',
    );
  });

  it('rejects a revoked VCEK and a revoked ASK', async () => {
    const revokedVcek = await simulator.snp({ at: AT, revokeEndorsement: true });
    const options = { trust: trustWithDev, at: AT, allowSimulated: true };
    const code = (fn: () => unknown) =>
      assert.throws(
        fn,
        (error: unknown) => error instanceof ChainError && error.code === 'SNP_CERT_REVOKED',
      );
    code(() =>
      verifySnp(revokedVcek.report, revokedVcek.endorsement, {
        ...options,
        crls: revokedVcek.crls.map((crl) => parseCrl(crl)),
      }),
    );
    const revokedAsk = await simulator.snp({
      at: AT,
      revoked: [devPki.snp.Milan.ask.certificate.serialNumber],
    });
    code(() =>
      verifySnp(revokedAsk.report, revokedAsk.endorsement, {
        ...options,
        crls: revokedAsk.crls.map((crl) => parseCrl(crl)),
      }),
    );
  });

  it('rejects a CRL that is stale, not yet valid or badly signed', async () => {
    const { report, endorsement, crls } = await simulator.snp({ at: AT });
    const crl = parseCrl(crls[0]!);
    const invalid = (at: Date, crlList = [crl]) =>
      assert.throws(
        () =>
          verifySnp(report, endorsement, {
            trust: trustWithDev,
            at,
            allowSimulated: true,
            crls: crlList,
          }),
        (error: unknown) => error instanceof ChainError && error.code === 'SNP_CRL_INVALID',
      );
    invalid(new Date(AT.getTime() + 30 * 86_400_000));
    const later = await simulator.snp({ at: new Date(AT.getTime() + 5 * 86_400_000) });
    invalid(AT, [parseCrl(later.crls[0]!)]);
    const tampered = Uint8Array.from(crls[0]!);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    invalid(AT, [parseCrl(tampered)]);
  });

  it("ignores a CRL from another product's root: revocation stays unchecked", async () => {
    const milan = await simulator.snp({ at: AT, product: 'Milan' });
    const genoa = await simulator.snp({ at: AT, product: 'Genoa' });
    const verified = verifySnp(milan.report, milan.endorsement, {
      trust: trustWithDev,
      at: AT,
      allowSimulated: true,
      crls: [parseCrl(genoa.crls[0]!)],
    });
    assert.equal(verified.revocation, 'unavailable');
  });

  it('uses the default measurement of a simulated guest', async () => {
    const { report } = await simulator.snp({ at: AT });
    assert.deepEqual(report.measurement, SIM_DEFAULT_MEASUREMENT);
    assert.equal(
      defaultTrustStore().snp.some((anchor) => anchor.simulated),
      false,
    );
  });
});
