/**
 * Attested inference: opens sealed requests, runs each at once through the
 * model, and obtains one hardware quote per request or per batch. A quote can
 * take milliseconds, so by default answers ready within a short window share one quote over the
 * Merkle root of their bindings; each answer then carries its inclusion path.
 * Standing evidence (model hash + enclave key) is refreshed periodically.
 */
import { inclusionProof } from '@veritee/attestations/merkle';
import {
  committedInput,
  openInferenceRequest,
  type EnclaveKeyPair,
  type InferenceRequest,
} from '@veritee/attestations/seal';
import {
  batchReportData,
  bindingDigest,
  commitInput,
  hashOutput,
  identityDigest,
  type BatchInclusion,
  type Binding,
} from '@veritee/attestations/wire';
import type { LoadedModel } from '../model/model.js';
import type { TeeProvider } from '../tee/provider.js';

export type BatchingMode =
  | { readonly kind: 'single' }
  | { readonly kind: 'batch'; readonly windowMs: number; readonly maxSize: number };

/** Default batching: a 2 ms window, at most 32 requests per quote. */
const DEFAULT_BATCHING: BatchingMode = { kind: 'batch', windowMs: 2, maxSize: 32 };

/** An attested result before the output is sealed to its requester. */
export interface AttestedResult {
  readonly output: Uint8Array;
  /** Evidence whose report data vouches for the binding. */
  readonly evidence: Uint8Array;
  readonly binding: Binding;
  /** Present when the quote covers a batch. */
  readonly inclusion?: BatchInclusion;
}

export interface AttestedAnswer {
  /** The Oblivious HTTP encapsulated response: the output, evidence and binding, sealed to the requester. */
  readonly sealed: Uint8Array;
  /** Evidence whose report data vouches for the binding. */
  readonly evidence: Uint8Array;
  /** The binding's opening: nothing in it reveals the prompt or output. */
  readonly binding: Binding;
  /** Present when the quote covers a batch. */
  readonly inclusion?: BatchInclusion;
}

export interface StandingEvidence {
  readonly evidence: Uint8Array;
  readonly issuedAt: Date;
}

export interface AttestedInferenceOptions {
  readonly model: LoadedModel;
  readonly tee: TeeProvider;
  readonly keyPair: EnclaveKeyPair;
  readonly clock: () => Date;
  /** Default {@link DEFAULT_BATCHING}. */
  readonly batching?: BatchingMode;
  /** Told of each quote: how many requests it covers and the seconds it took. */
  readonly onBatch?: (batch: { size: number; quoteSeconds: number }) => void;
  /** Told of each request's model run and the seconds it took. */
  readonly onModel?: (run: { seconds: number }) => void;
}

const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

interface Pending {
  readonly output: Uint8Array;
  readonly binding: Binding;
  readonly resolve: (result: AttestedResult) => void;
  readonly reject: (error: unknown) => void;
}

export function createAttestedInference(options: AttestedInferenceOptions) {
  const { model, tee, keyPair, clock } = options;
  const batching = options.batching ?? DEFAULT_BATCHING;
  const modelHash = model.identity.modelHash;
  let queue: Pending[] = [];
  let scheduled: { cancel: () => void } | undefined;
  let inFlight = 0;

  /** Quotes a batch of answered requests: one quote over the Merkle root of their bindings. */
  async function settle(batch: Pending[]): Promise<void> {
    try {
      const quoted = process.hrtime.bigint();
      if (batching.kind === 'single') {
        const [{ binding, output, resolve }] = batch as [Pending];
        const evidence = await tee.quote({
          reportData: bindingDigest(binding),
          nonce: binding.nonce,
          publicKey: keyPair.publicKey,
        });
        options.onBatch?.({ size: 1, quoteSeconds: secondsSince(quoted) });
        resolve({ output, evidence, binding });
        return;
      }
      const { reportData, leaves } = batchReportData(batch.map((pending) => pending.binding));
      const evidence = await tee.quote({ reportData, publicKey: keyPair.publicKey });
      options.onBatch?.({ size: batch.length, quoteSeconds: secondsSince(quoted) });
      batch.forEach((pending, index) => {
        pending.resolve({
          output: pending.output,
          evidence,
          binding: pending.binding,
          inclusion: { index, size: batch.length, path: inclusionProof(leaves, index) },
        });
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  function flush(): void {
    scheduled?.cancel();
    scheduled = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    inFlight += 1;
    void settle(batch).finally(() => {
      inFlight -= 1;
      // Whatever queued behind this batch goes next, without waiting out its window.
      if (queue.length > 0) flush();
    });
  }

  /** Queues an answered request for the next quote. */
  function quote(output: Uint8Array, binding: Binding): Promise<AttestedResult> {
    return new Promise<AttestedResult>((resolve, reject) => {
      queue.push({ output, binding, resolve, reject });
      if (batching.kind === 'single' || queue.length >= batching.maxSize) flush();
      else if (scheduled === undefined && inFlight === 0) {
        // Idle: start after the requests already arriving in this turn of the event loop.
        const handle = setImmediate(flush);
        scheduled = { cancel: () => clearImmediate(handle) };
      } else if (scheduled === undefined) {
        const handle = setTimeout(flush, batching.windowMs);
        scheduled = { cancel: () => clearTimeout(handle) };
      }
    });
  }

  return {
    /**
     * Runs one (already opened) request and quotes it, alone or in a batch.
     * @throws UpstreamError TEE_QUOTE_FAILED, ConfigError MODEL_INVALID,
     *   RequestError MODEL_INPUT_INVALID
     */
    async attest(request: InferenceRequest): Promise<AttestedResult> {
      const started = process.hrtime.bigint();
      // The model runs at once; only the quote waits for a batch.
      const output = await model.infer(
        'prompt' in request ? { text: request.prompt } : request.input,
      );
      options.onModel?.({ seconds: secondsSince(started) });
      return quote(output, {
        modelHash,
        inputCommitment: commitInput(request.salt, committedInput(request)),
        outputHash: hashOutput(output),
        nonce: request.nonce,
        enclaveKey: keyPair.publicKey,
      });
    },

    /**
     * Opens an Oblivious HTTP request, runs it, quotes it and seals the result
     * (output, evidence, binding) back; the evidence and binding also go out in
     * the clear, for the host's receipt.
     * @throws EvidenceError OHTTP_MALFORMED, OHTTP_KEY_UNKNOWN, BHTTP_MALFORMED, OHTTP_REQUEST_INVALID;
     *   ChainError OHTTP_OPEN_FAILED; UpstreamError TEE_QUOTE_FAILED
     */
    async infer(encapsulated: Uint8Array): Promise<AttestedAnswer> {
      const { request, sealResult } = openInferenceRequest(keyPair, encapsulated);
      const result = await this.attest(request);
      const { output: _output, ...attested } = result;
      return { sealed: sealResult(result), ...attested };
    },

    /** Fresh standing evidence binding the model hash and the enclave key. */
    async standingEvidence(): Promise<StandingEvidence> {
      const issuedAt = clock();
      const reportData = identityDigest({ modelHash, enclaveKey: keyPair.publicKey, issuedAt });
      return { evidence: await tee.quote({ reportData, publicKey: keyPair.publicKey }), issuedAt };
    },

    /** Settles what is queued now. */
    flush,
  };
}

export type AttestedInference = ReturnType<typeof createAttestedInference>;
