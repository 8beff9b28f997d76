/**
 * Loads the real hardware vectors published in ../shared/vectors (see its
 * MANIFEST/README). VERITEE_VECTORS overrides the folder. A missing folder is a
 * failure, not a skip: these vectors are the proof that real evidence verifies.
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export interface Vector {
  readonly id: string;
  readonly format: 'sev-snp' | 'nitro';
  readonly expect: 'accept' | 'reject';
  readonly evidence: string;
  readonly endorsement?: string;
  readonly product?: 'Milan' | 'Genoa' | 'Turin';
  readonly verify_at: string;
  readonly fields?: Record<string, string | number>;
  readonly reported_tcb?: {
    bootloader: number;
    tee: number;
    snp: number;
    microcode: number;
    raw: string;
  };
  readonly debug?: boolean;
  readonly derived_from?: string;
}

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
export const VECTORS_DIR =
  process.env['VERITEE_VECTORS'] ?? join(repoRoot, '..', 'shared', 'vectors');

if (!existsSync(join(VECTORS_DIR, 'index.json'))) {
  throw new Error(
    `real vectors not found at ${VECTORS_DIR}; set VERITEE_VECTORS to the folder holding index.json`,
  );
}

export const vectors: readonly Vector[] = JSON.parse(
  readFileSync(join(VECTORS_DIR, 'index.json'), 'utf8'),
) as Vector[];

export function vectorFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(VECTORS_DIR, path)));
}

export function vectorById(id: string): Vector {
  const found = vectors.find((vector) => vector.id === id);
  if (found === undefined) throw new Error(`no vector ${id}`);
  return found;
}

/** Authentic-vector policy: the vectors predate any CRL we hold and run with SMT on. */
export const REAL_SNP_POLICY = { allowUncheckedRevocation: true, snp: { allowSmt: true } } as const;
