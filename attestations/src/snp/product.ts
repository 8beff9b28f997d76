/**
 * SEV-SNP product lines and the layout of their TCB_VERSION (ABI #56860,
 * Table 3 "TCB_VERSION Structure" for Milan/Genoa and its Turin variant with FMC).
 */
import type { SnpCpuid } from './report.js';

export const SNP_PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const;
export type SnpProduct = (typeof SNP_PRODUCTS)[number];

/** True for a product name we know; never throws. */
export function isSnpProduct(value: unknown): value is SnpProduct {
  return typeof value === 'string' && (SNP_PRODUCTS as readonly string[]).includes(value);
}

/** Security patch levels of the firmware components in a TCB_VERSION. */
export interface SnpTcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only. */
  readonly fmc?: number;
}

/** Byte index of each component in the little-endian 64-bit TCB_VERSION. */
const TCB_LAYOUT: Record<SnpProduct, Readonly<Record<keyof SnpTcb, number | undefined>>> = {
  Milan: { bootloader: 0, tee: 1, snp: 6, microcode: 7, fmc: undefined },
  Genoa: { bootloader: 0, tee: 1, snp: 6, microcode: 7, fmc: undefined },
  Turin: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 },
};

/** Splits a raw TCB_VERSION into its components for `product`. */
export function decodeTcb(raw: bigint, product: SnpProduct): SnpTcb {
  const byte = (index: number | undefined) =>
    index === undefined ? 0 : Number((raw >> BigInt(index * 8)) & 0xffn);
  const layout = TCB_LAYOUT[product];
  const tcb = {
    bootloader: byte(layout.bootloader),
    tee: byte(layout.tee),
    snp: byte(layout.snp),
    microcode: byte(layout.microcode),
  };
  return layout.fmc === undefined ? tcb : { ...tcb, fmc: byte(layout.fmc) };
}

/** Composes a raw TCB_VERSION from components; reserved bytes are zero. */
export function encodeTcb(tcb: SnpTcb, product: SnpProduct): bigint {
  let raw = 0n;
  for (const [name, index] of Object.entries(TCB_LAYOUT[product])) {
    const value = tcb[name as keyof SnpTcb];
    if (index !== undefined && value !== undefined)
      raw |= BigInt(value & 0xff) << BigInt(index * 8);
  }
  return raw;
}

/** Length of the hardware ID that KDS puts in a VCEK: Turin uses 8 bytes of CHIP_ID. */
export function hwidLength(product: SnpProduct): number {
  return product === 'Turin' ? 8 : 64;
}

// CPUID Fn0000_0001_EAX family and model of each product line (AMD PPR for each family).
const CPUID_PRODUCTS: ReadonlyArray<{
  familyId: number;
  modelIds: readonly number[];
  product: SnpProduct;
}> = [
  { familyId: 0x19, modelIds: [0x01], product: 'Milan' },
  { familyId: 0x19, modelIds: [0x11, 0xa0], product: 'Genoa' },
  { familyId: 0x1a, modelIds: [0x02, 0x11], product: 'Turin' },
];

/** The product named by a report's CPUID fields, or undefined when unknown. */
export function productFromCpuid(cpuid: SnpCpuid): SnpProduct | undefined {
  return CPUID_PRODUCTS.find(
    (entry) => entry.familyId === cpuid.familyId && entry.modelIds.includes(cpuid.modelId),
  )?.product;
}

/** CPUID fields for a product (stepping 1), as the simulator reports them. */
export function cpuidOfProduct(product: SnpProduct): SnpCpuid {
  const entry = CPUID_PRODUCTS.find((candidate) => candidate.product === product);
  return { familyId: entry?.familyId ?? 0, modelId: entry?.modelIds[0] ?? 0, stepping: 1 };
}
