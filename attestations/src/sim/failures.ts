/**
 * One simulated case per way evidence must be refused, each with the code it
 * must reach, so chain and policy code is tested against every failure and not
 * only the happy path.
 */
import type { EvidenceInput } from '../evidence/appraise.js';
import type { Policy } from '../policy/policy.js';
import { simulatedChipId, type SnpSimulator } from './snp.js';
import type { NitroSimulator } from './nitro.js';

export interface FailureCase {
  readonly name: string;
  /** The code appraisal must report. */
  readonly code: string;
  readonly input: EvidenceInput;
  readonly policy: Policy;
  readonly at: Date;
}

const HOUR = 3_600_000;

/** Every failure case at time `at`; each passes the default policy except for its one flaw. */
export async function createFailureCases(
  snp: SnpSimulator,
  nitro: NitroSimulator,
  at: Date,
): Promise<FailureCase[]> {
  const snpCase = async (
    name: string,
    code: string,
    options: Omit<Parameters<SnpSimulator>[0], 'at'>,
    policy: Policy = {},
  ): Promise<FailureCase> => {
    const simulated = await snp({ at, ...options });
    // The table carries the ARK's CRL; a revoked VCEK is listed on its ASK's, given beside it.
    return {
      name,
      code,
      input: { evidence: simulated.evidence, crls: simulated.crls.slice(1) },
      policy,
      at,
    };
  };
  const nitroCase = async (
    name: string,
    code: string,
    options: Omit<Parameters<NitroSimulator>[0], 'at'>,
    policy: Policy = {},
  ): Promise<FailureCase> => ({
    name,
    code,
    input: { evidence: (await nitro({ at, ...options })).evidence },
    policy,
    at,
  });
  return Promise.all([
    snpCase('expired VCEK', 'SNP_CERT_EXPIRED', {
      endorsement: {
        validity: {
          notBefore: new Date(at.getTime() - 48 * HOUR),
          notAfter: new Date(at.getTime() - HOUR),
        },
      },
    }),
    nitroCase('expired Nitro leaf', 'NITRO_CERT_EXPIRED', {
      leafValidity: {
        notBefore: new Date(at.getTime() - 4 * HOUR),
        notAfter: new Date(at.getTime() - HOUR),
      },
    }),
    snpCase('wrong product (Genoa CPUID under a Milan chain)', 'SNP_PRODUCT_MISMATCH', {
      product: 'Milan',
      cpuidProduct: 'Genoa',
    }),
    snpCase('revoked VCEK', 'SNP_CERT_REVOKED', { revokeEndorsement: true }),
    snpCase('debug guest policy', 'POLICY_DEBUG_ENABLED', { debug: true }),
    nitroCase('debug Nitro enclave', 'POLICY_DEBUG_ENABLED', { debug: true }),
    snpCase('VMPL 3', 'POLICY_VMPL_NOT_ALLOWED', { vmpl: 3 }, { snp: { vmpls: [0] } }),
    nitroCase(
      'stale timestamp',
      'POLICY_EVIDENCE_STALE',
      { timestamp: new Date(at.getTime() - HOUR) },
      { maxEvidenceAgeSeconds: 300 },
    ),
    snpCase('wrong chip id', 'SNP_CHIP_ID_MISMATCH', {
      endorsement: { chipId: simulatedChipId('Genoa') },
    }),
  ]);
}
