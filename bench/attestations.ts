/**
 * Verification throughput on the real vectors, against node:crypto's raw
 * ECDSA P-384 verify on this machine (the one public-key operation a new
 * quote needs once its chain is known), each ratio measured interleaved:
 *
 * - every real SNP report, as a new quote (its signature not seen before);
 * - a Nitro document from an enclave seen before (chain known, document new)
 *   and from a new enclave (its leaf certificate new, AWS's chain known);
 * - a quote seen before, as every receipt of one batched quote is;
 * - the same Genoa report through @tinfoilsh/verifier, as an independent
 *   implementation's figure. Its platform policy refuses this Azure report
 *   (it requires TSME) after the chain and signature are verified, so its
 *   time covers the same cryptographic work.
 */
import { createHash, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PredicateType, verifyAttestation } from '@tinfoilsh/verifier';
import {
  appraise,
  chainSignatures,
  evidenceSignatures,
  linkKeyPrefix,
  type AppraiseOptions,
  type EvidenceInput,
} from '@veritee/attestations/evidence';
import { parseNitroDocument } from '@veritee/attestations/nitro';
import { vectorById, vectorFile, vectors, REAL_SNP_POLICY } from '@veritee/mock/vectors';
import { printRow, ratePerSecond } from './measure.js';

/** Rates of `operations`, measured in turns (A B A B ...), median of three turns each. */
async function interleaved(operations: readonly (() => unknown)[]): Promise<number[]> {
  const rounds: number[][] = operations.map(() => []);
  for (let round = 0; round < 3; round++)
    for (const [index, operation] of operations.entries())
      rounds[index]!.push(await ratePerSecond(operation, 500));
  return rounds.map((rates) => rates.sort((a, b) => a - b)[1] ?? 0);
}

const ratio = (value: number, raw: number, aim: string) =>
  `${value.toFixed(0)} /s  ratio ${(value / raw).toFixed(2)} (aim ${aim})`;

async function accepted(input: EvidenceInput, options: AppraiseOptions): Promise<void> {
  const verdict = await appraise(input, options);
  if (verdict.verdict !== 'accept')
    throw new Error(`bench vector rejected: ${verdict.codes.join()}`);
}

export async function benchAttestations(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const message = new Uint8Array(0x2a0);
  const signature = sign('sha384', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const raw = () =>
    verify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);

  // Every real SNP report, as a new quote each time.
  for (const vector of vectors.filter((v) => v.format === 'sev-snp' && v.expect === 'accept')) {
    const input = {
      evidence: vectorFile(vector.evidence),
      endorsement: vector.endorsement === undefined ? undefined : vectorFile(vector.endorsement),
    };
    const options = {
      at: new Date(vector.verify_at),
      policy: { ...REAL_SNP_POLICY, allowDebug: vector.debug === true },
    };
    await accepted(input, options);
    const [rawRate, snp] = await interleaved([
      raw,
      () => {
        evidenceSignatures.clear();
        return appraise(input, options);
      },
    ]);
    printRow(`SNP appraisal, new report (${vector.id})`, ratio(snp!, rawRate!, '>= 0.90'));
  }

  const nitroVector = vectorById('nitro-evervault-2022-10-13-nonce');
  const nitroInput = { evidence: vectorFile(nitroVector.evidence) };
  const nitroOptions = { at: new Date(nitroVector.verify_at) };
  await accepted(nitroInput, nitroOptions);
  const nitroLeafLinks = linkKeyPrefix(
    createHash('sha256')
      .update(parseNitroDocument(nitroInput.evidence).payload.certificate)
      .digest('hex'),
  );
  const snpVector = vectorById('snp-trustee-azure-genoa-v3');
  const snpInput = {
    evidence: vectorFile(snpVector.evidence),
    endorsement: vectorFile(snpVector.endorsement!),
  };
  const snpOptions = { at: new Date(snpVector.verify_at), policy: REAL_SNP_POLICY };
  await accepted(snpInput, snpOptions);
  const tinfoilDocument = {
    format: PredicateType.SevGuestV2,
    body: gzipSync(snpInput.evidence.subarray(0, 1184)).toString('base64'),
  };
  const tinfoilVcek = new X509Certificate(snpInput.endorsement).raw.toString('base64');
  const tinfoil = () => verifyAttestation(tinfoilDocument, tinfoilVcek).catch(() => undefined);

  const [rawRate, warm, cold, seen, ours, theirs] = await interleaved([
    raw,
    () => {
      evidenceSignatures.clear();
      return appraise(nitroInput, nitroOptions);
    },
    () => {
      // A new enclave: its leaf certificate is new; AWS's root and intermediates are not.
      evidenceSignatures.clear();
      chainSignatures.forget(nitroLeafLinks);
      return appraise(nitroInput, nitroOptions);
    },
    () => appraise(snpInput, snpOptions),
    () => {
      evidenceSignatures.clear();
      return appraise(snpInput, snpOptions);
    },
    tinfoil,
  ]);
  printRow('node:crypto ECDSA P-384 verify (raw)', `${rawRate!.toFixed(0)} /s`);
  printRow(
    `Nitro appraisal, enclave seen before (${nitroVector.id})`,
    ratio(warm!, rawRate!, '>= 0.80'),
  );
  printRow(
    'Nitro appraisal, new enclave (its leaf certificate new)',
    // The leaf's certificate signature and the document's: two verifies, so 0.5 at best.
    ratio(cold!, rawRate!, '>= 0.50; two verifies, 0.50 is the ceiling'),
  );
  printRow(
    `SNP appraisal, quote seen before (a batch's receipts)`,
    ratio(seen!, rawRate!, '>= 3: no public-key operation'),
  );
  printRow(
    `SNP appraisal vs @tinfoilsh/verifier, same Genoa report`,
    `${ours!.toFixed(0)} /s vs ${theirs!.toFixed(0)} /s  ${(ours! / theirs!).toFixed(1)}x (aim >= 10x; ours is bounded by the raw verify: ${(rawRate! / theirs!).toFixed(1)}x)`,
  );
}
