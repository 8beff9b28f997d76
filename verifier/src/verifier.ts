/**
 * Wires the verifier's services to its HTTP API: the policy registry (base
 * policy plus logged reference values), receipts, attestation results. main.ts
 * gives it real stores and keys; tests and benchmarks give it theirs.
 */
import type { Policy } from '@veritee/attestations/policy';
import { createApp } from './app.js';
import type { ReceiptLog } from './log/receipt-log.js';
import type { Appraiser } from './service/appraiser.js';
import { createAttestationResults } from './service/attestation-results.js';
import { createPolicyRegistry } from './service/policy-registry.js';
import { createReceiptService } from './service/receipts.js';
import { createKeyBroker } from './service/key-broker.js';
import type { Signer } from './signing/signer.js';

export interface VerifierDeps {
  readonly log: ReceiptLog;
  readonly signer: Signer;
  readonly appraiser: Appraiser;
  readonly issuer: string;
  /** The policy from its file: id, first version, rules. */
  readonly basePolicy: { readonly id: string; readonly version: number; readonly policy: Policy };
  /** The admin API's bearer token; unset: no admin API. */
  readonly adminToken?: string | undefined;
  /** Unwraps data keys with KMS; set, the verifier is also the SEV-SNP key broker. */
  readonly unwrap?: ((encryptedKey: Uint8Array) => Promise<Uint8Array>) | undefined;
  readonly clock: () => Date;
}

/** Builds the verifier; its registry has replayed the log's policy changes before this resolves. */
export async function createVerifier(deps: VerifierDeps) {
  const { log, signer, issuer, clock } = deps;
  const registry = createPolicyRegistry({ base: deps.basePolicy, log, signer, issuer, clock });
  await registry.refresh();
  const receipts = createReceiptService({
    log,
    signer,
    issuer,
    policy: () => registry.current(),
    allowsModel: (claims, modelHash) => registry.allowsModel(claims, modelHash),
    appraiser: deps.appraiser,
    clock,
  });
  const results = createAttestationResults({
    appraise: receipts.appraise,
    policy: () => registry.current(),
    signer,
    issuer,
    clock,
  });
  const broker =
    deps.unwrap === undefined
      ? undefined
      : createKeyBroker({
          appraise: receipts.appraise,
          policy: () => registry.current(),
          unwrap: deps.unwrap,
          log,
          signer,
          issuer,
          clock,
        });
  const app = createApp({
    broker,
    receipts,
    results,
    registry,
    adminToken: deps.adminToken,
    log,
    signer,
    issuer,
    clock,
  });
  return { app, registry, receipts };
}
