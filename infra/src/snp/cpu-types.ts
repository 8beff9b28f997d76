/**
 * The CPUID Fn0000_0001_EAX signature of QEMU's EPYC models (AMD publication
 * 25481): QEMU hands it to each vCPU in RDX at reset, so it is measured.
 */
import { ConfigError } from '@veritee/attestations';

export function cpuSignature(family: number, model: number, stepping: number): number {
  const [familyLow, familyHigh] = family > 0xf ? [0xf, (family - 0xf) & 0xff] : [family, 0];
  return (
    ((familyHigh << 20) |
      (((model >> 4) & 0xf) << 16) |
      (familyLow << 8) |
      ((model & 0xf) << 4) |
      (stepping & 0xf)) >>>
    0
  );
}

const [NAPLES, ROME, MILAN, GENOA, TURIN] = [
  cpuSignature(23, 1, 2),
  cpuSignature(23, 49, 0),
  cpuSignature(25, 1, 1),
  cpuSignature(25, 17, 0),
  cpuSignature(26, 0, 0),
];

/** QEMU's `-cpu` names for AMD EPYC, with their signatures. */
export const VCPU_TYPES: Readonly<Record<string, number>> = {
  EPYC: NAPLES,
  'EPYC-v1': NAPLES,
  'EPYC-v2': NAPLES,
  'EPYC-IBPB': NAPLES,
  'EPYC-v3': NAPLES,
  'EPYC-v4': NAPLES,
  'EPYC-Rome': ROME,
  'EPYC-Rome-v1': ROME,
  'EPYC-Rome-v2': ROME,
  'EPYC-Rome-v3': ROME,
  'EPYC-Milan': MILAN,
  'EPYC-Milan-v1': MILAN,
  'EPYC-Milan-v2': MILAN,
  'EPYC-Genoa': GENOA,
  'EPYC-Genoa-v1': GENOA,
  'EPYC-Turin': TURIN,
};

/** @throws ConfigError MEASURE_UNKNOWN_VCPU_TYPE */
export function vcpuTypeSignature(name: string): number {
  const signature = VCPU_TYPES[name];
  if (signature === undefined)
    throw new ConfigError(
      'MEASURE_UNKNOWN_VCPU_TYPE',
      `unknown vCPU type ${JSON.stringify(name)}; known: ${Object.keys(VCPU_TYPES).join(', ')}`,
    );
  return signature;
}
