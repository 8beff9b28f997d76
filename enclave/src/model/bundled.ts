/**
 * The bundled default model: three prompt classifiers built from the
 * llm_guardrail weights by scripts/build-model.ts at build time. Its bytes are
 * deterministic, so their SHA-256 is pinned here and checked at start.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { toHex } from '@veritee/attestations';
import { modelHash, sha256 } from '@veritee/attestations/wire';
import { MODEL_CONFIG_FORMAT, type ModelConfig } from './config.js';

export const GUARDRAIL_CONFIG: ModelConfig = {
  format: MODEL_CONFIG_FORMAT,
  // The tokenizer of the weights' TfidfVectorizer: words of two or more word characters.
  tokenizer: { pattern: '\\b\\w\\w+\\b', lowercase: true, maxTokens: 4096 },
  input: 'tokens',
  outputs: ['injection', 'jailbreak', 'malicious'],
};

export const BUNDLED_MODEL = {
  path: fileURLToPath(new URL('../../models/guardrail.onnx', import.meta.url)),
  configPath: fileURLToPath(new URL('../../models/guardrail.json', import.meta.url)),
  /** SHA-256 of guardrail.onnx as scripts/build-model.ts writes it. */
  sha256: '4801a352432f490447ee37cea5e45e633a91ecbe225fba58d24e48684edec708',
} as const;

/** The `veritee.model/v1` hash (hex) of the bundled model and its config: what clients pin by default. */
export async function bundledModelHash(): Promise<string> {
  const [model, config] = await Promise.all([
    readFile(BUNDLED_MODEL.path),
    readFile(BUNDLED_MODEL.configPath),
  ]);
  return toHex(modelHash(sha256(model), sha256(config)));
}
