import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeTcb } from '@veritee/attestations/snp';
import { certChainPath, crlPath, vcekPath } from '../src/index.js';

const chipId = Uint8Array.from({ length: 64 }, (_, index) => index);

describe('vcekPath', () => {
  it('names the product, the whole chip id and each SPL for Milan and Genoa', () => {
    // TCB of the go-sev-guest Milan report: bootloader 2, tee 0, snp 5, microcode 68.
    const path = vcekPath('Milan', chipId, 0x4405000000000002n);
    assert.equal(
      path,
      `/vcek/v1/Milan/${Buffer.from(chipId).toString('hex')}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68`,
    );
  });

  it('uses 8 bytes of the chip id and adds fmcSPL for Turin', () => {
    const tcb = encodeTcb({ fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 5 }, 'Turin');
    assert.equal(
      vcekPath('Turin', chipId, tcb),
      '/vcek/v1/Turin/0001020304050607?fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=5',
    );
  });
});

describe('certChainPath and crlPath', () => {
  it('name the VCEK and VLEK endpoints of a product', () => {
    assert.equal(certChainPath('Genoa', 'VCEK'), '/vcek/v1/Genoa/cert_chain');
    assert.equal(certChainPath('Milan', 'VLEK'), '/vlek/v1/Milan/cert_chain');
    assert.equal(crlPath('Turin', 'VCEK'), '/vcek/v1/Turin/crl');
    assert.equal(crlPath('Milan', 'VLEK'), '/vlek/v1/Milan/crl');
  });
});
