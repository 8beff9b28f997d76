/**
 * Verification throughput on the real vectors: SNP reports and Nitro documents
 * through the whole appraisal (parse, cached chain, signature, policy), beside
 * node:crypto's raw ECDSA P-384 verify rate on this machine.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appraise } from '@veritee/attestations/evidence';
import { VECTORS_DIR, vectorById, REAL_SNP_POLICY } from '@veritee/mock/vectors';
import { printRow, ratePerSecond } from './measure.js';

export async function benchAttestations(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const message = new Uint8Array(0x2a0);
  const signature = sign('sha384', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const raw = await ratePerSecond(() =>
    verify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature),
  );

  const snpVector = vectorById('snp-trustee-azure-milan-v3-a');
  const snpInput = {
    evidence: new Uint8Array(readFileSync(join(VECTORS_DIR, snpVector.evidence))),
    endorsement: new Uint8Array(readFileSync(join(VECTORS_DIR, snpVector.endorsement ?? ''))),
  };
  const snpOptions = { at: new Date(snpVector.verify_at), policy: REAL_SNP_POLICY };
  const nitroVector = vectorById('nitro-evervault-2022-10-13-nonce');
  const nitroInput = {
    evidence: new Uint8Array(readFileSync(join(VECTORS_DIR, nitroVector.evidence))),
  };
  const nitroOptions = { at: new Date(nitroVector.verify_at) };
  for (const [input, options] of [
    [snpInput, snpOptions],
    [nitroInput, nitroOptions],
  ] as const) {
    const verdict = await appraise(input, options);
    if (verdict.verdict !== 'accept')
      throw new Error(`bench vector rejected: ${verdict.codes.join()}`);
  }
  const snp = await ratePerSecond(() => appraise(snpInput, snpOptions));
  const nitro = await ratePerSecond(() => appraise(nitroInput, nitroOptions));

  printRow('node:crypto ECDSA P-384 verify (raw)', `${raw.toFixed(0)} /s`);
  printRow(
    `SNP report appraisal (${snpVector.id})`,
    `${snp.toFixed(0)} /s  ratio ${(snp / raw).toFixed(2)} (aim >= 0.80)`,
  );
  printRow(
    `Nitro document appraisal (${nitroVector.id})`,
    `${nitro.toFixed(0)} /s  ratio ${(nitro / raw).toFixed(2)} (aim >= 0.40)`,
  );
}
