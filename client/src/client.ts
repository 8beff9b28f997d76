/**
 * The client: fetches the enclave's evidence through the host and verifies it,
 * seals the prompt to the attested key (fresh salt and nonce per request),
 * sends it, and returns the output only after the answer, its binding and (when
 * a verifier is configured) its receipt have been checked.
 */
import { randomBytes } from 'node:crypto';
import { toHex } from '@veritee/attestations';
import { parseJwks, type ReceiptCheck, type VerifierIdentity } from '@veritee/attestations/receipt';
import { createAppraisalMemo } from '@veritee/attestations/evidence';
import { sealInferenceRequest } from '@veritee/attestations/seal';
import { parseHostAnswer, type InferenceInput } from '@veritee/attestations/wire';
import { checkAnswer } from './check-answer.js';
import { checkEnclave, type AttestedEnclave } from './check-enclave.js';
import { checkReceipt, fetchLogKey } from './check-receipt.js';
import { checkApproval, fetchApprovals } from './check-approval.js';
import { createHttp } from './http.js';
import { checkOptions, DEFAULT_TIMEOUT_MS, type ClientOptions } from './options.js';

export interface InferenceResult {
  /** The model's output, as the enclave encoded it (UTF-8 JSON for the bundled model). */
  readonly output: string;
  /** What was verified, in public values only. */
  readonly verified: {
    readonly tee: 'sev-snp' | 'nitro';
    readonly simulated: boolean;
    readonly measurement: string;
    readonly modelHash: string;
    readonly inputCommitment: string;
    readonly outputHash: string;
    readonly batched: boolean;
    /** What vouched for the enclave's code: the verifier's log, the client's list, or nothing (said so). */
    readonly approval: string;
  };
  /** The receipt, when the host attached one; `checked` when a verifier was configured and it passed. */
  readonly receipt?: {
    readonly id: string;
    readonly jws: string;
    readonly logIndex: number;
    readonly checked?: ReceiptCheck | undefined;
  };
  /** The salt that opens the input commitment; keep it to prove later what was asked. */
  readonly salt: string;
}

export function createClient(options: ClientOptions) {
  checkOptions(options);
  const clock = options.clock ?? (() => new Date());
  const http = createHttp(options.fetch ?? fetch, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const host = options.host.replace(/\/+$/, '');
  let attested: AttestedEnclave | undefined;
  // Answers of one batch carry one quote: verified once for this client, kept while it holds.
  const memo = createAppraisalMemo();
  // The verifier is the one the caller named; its keys are the caller's, or fetched once and kept.
  const verifierBase = options.verifier?.replace(/\/+$/, '');
  let pinned: VerifierIdentity | undefined;
  const witnesses =
    options.witnesses === undefined
      ? undefined
      : {
          keys: options.witnesses.keys,
          required: options.witnesses.required ?? options.witnesses.keys.length,
        };
  async function verifierIdentity(base: string): Promise<VerifierIdentity> {
    // Fetched once: the keys then stay pinned for this client's life.
    if (pinned !== undefined) return pinned;
    const logKey = options.verifierLogKey ?? (await fetchLogKey(http, base));
    pinned ??= {
      issuer: base,
      jwks: options.verifierKeys ?? parseJwks(await http.getJson(`${base}/.well-known/jwks.json`)),
      ...(logKey === undefined ? {} : { logKey }),
    };
    return pinned;
  }

  let approval = '';
  async function enclave(): Promise<AttestedEnclave> {
    const checked = await checkEnclave(
      await http.getJson(`${host}/v1/attestation`),
      options,
      clock(),
    );
    // Before any prompt is sealed to it: the enclave's code must be approved.
    const approvals =
      (options.policy.measurements ?? 'approved') === 'approved' && verifierBase !== undefined
        ? await fetchApprovals(http, await verifierIdentity(verifierBase), clock())
        : undefined;
    approval = checkApproval(checked, options.policy, approvals);
    return (attested = checked);
  }

  return {
    /** Fetches and verifies the enclave's standing evidence. @throws Refused, UpstreamError */
    enclave,

    /**
     * Attests the enclave without sending it anything: its evidence, the
     * policy, and what vouches for its code (the verifier's log, the
     * client's list, or nothing, said so). @throws Refused, UpstreamError
     */
    async attest(): Promise<{ enclave: AttestedEnclave; approval: string }> {
      const checked = await enclave();
      return { enclave: checked, approval };
    },

    /**
     * Sends a private prompt (or any input the model's config accepts: text
     * with generation limits, chat messages, an image, raw tensors) and
     * returns the checked answer.
     * @throws Refused when the enclave, answer or receipt fails the client's checks
     * @throws ChainError OHTTP_OPEN_FAILED for a tampered response; UpstreamError when a service fails
     */
    async infer(input: string | InferenceInput): Promise<InferenceResult> {
      // Re-attest when the evidence in hand has aged past what the policy accepts.
      let target = attested;
      const maxAgeMs = (options.policy.maxEvidenceAgeSeconds ?? 600) * 1000;
      if (target === undefined || clock().getTime() - target.issuedAt.getTime() > maxAgeMs / 2)
        target = await enclave();
      const nonces = { salt: randomBytes(32), nonce: randomBytes(32) };
      const request =
        typeof input === 'string' ? { prompt: input, ...nonces } : { input, ...nonces };
      const { encapsulated, openResult } = sealInferenceRequest(target.enclaveKey, request);
      const hostAnswer = parseHostAnswer(await http.postBytes(`${host}/v1/infer`, encapsulated));
      const checked = await checkAnswer({
        answer: hostAnswer.answer,
        request,
        openResult,
        enclave: target,
        options,
        at: clock(),
        memo,
      });
      const receipt =
        verifierBase === undefined
          ? undefined
          : await checkReceipt({
              receipt: hostAnswer.receipt,
              receiptError: hostAnswer.receiptError,
              answer: checked,
              verifier: await verifierIdentity(verifierBase),
              http,
              at: clock(),
              allowSimulated: options.policy.allowSimulated === true,
              witnesses,
              waitMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
            });
      return {
        output: new TextDecoder().decode(checked.output),
        verified: {
          tee: target.tee,
          simulated: checked.verdict.simulated,
          measurement: toHex(checked.verdict.claims.measurement),
          modelHash: toHex(checked.binding.modelHash),
          inputCommitment: toHex(checked.binding.inputCommitment),
          outputHash: toHex(checked.binding.outputHash),
          batched: checked.inclusion !== undefined,
          approval,
        },
        ...(hostAnswer.receipt === undefined
          ? {}
          : { receipt: { ...hostAnswer.receipt, checked: receipt } }),
        salt: toHex(request.salt),
      };
    },
  };
}

export type Client = ReturnType<typeof createClient>;
