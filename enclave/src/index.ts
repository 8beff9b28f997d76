/**
 * `@veritee/enclave`: attested inference as a library, for tests and
 * benchmarks; `src/main.ts` wires the same parts into the enclave service.
 */
export { BUNDLED_MODEL, GENERIC_MODELS, bundledModelHash } from './model/bundled.js';
export { loadModel, type LoadedModel, type ModelIdentity } from './model/model.js';
export {
  createAttestedInference,
  type AttestedAnswer,
  type AttestedInference,
  type BatchingMode,
} from './service/attested-inference.js';
export type { TeeProvider, TeeKind, QuoteRequest } from './tee/provider.js';
export type { ConfigfsOps } from './tee/snp-configfs.js';
export { createSimulatedTee } from './tee/simulated.js';
