/**
 * Attestation results: evidence in, a signed EAR JWT (draft-ietf-rats-ear) out, for callers that want the verifier's judgement of evidence without a
 * receipt. Results are not logged: they are short-lived statements, not records.
 */
import { toHex } from '@veritee/attestations';
import { createHash, randomUUID } from 'node:crypto';
import { type Appraisal } from '@veritee/attestations/evidence';
import {
  ATTESTATION_RESULT_TYPE,
  attestationResultClaims,
  type AttestationResultClaims,
} from '@veritee/attestations/receipt';
import type { Signer } from '../signing/signer.js';
import type { PolicyRef } from './receipts.js';

/** How long a result may be relied on, in seconds. */
export const RESULT_LIFETIME_SECONDS = 300;

export function createAttestationResults(options: {
  readonly appraise: (evidence: Uint8Array) => Promise<Appraisal>;
  readonly policy: () => PolicyRef;
  readonly signer: Signer;
  readonly issuer: string;
  readonly clock: () => Date;
  /** The verifier's build, named in each result's `ear.verifier-id`. */
  readonly build: string;
}) {
  return {
    /** Appraises the evidence and signs what was found, whatever it was. */
    async issue(
      evidence: Uint8Array,
      nonce: string | undefined,
    ): Promise<{ claims: AttestationResultClaims; jwt: string }> {
      const verdict = await options.appraise(evidence);
      const { id, version } = options.policy();
      const claims = attestationResultClaims({
        verdict,
        issuer: options.issuer,
        at: options.clock(),
        lifetimeSeconds: RESULT_LIFETIME_SECONDS,
        id: randomUUID(),
        build: options.build,
        policy: { id, version },
        // Accepted evidence is named canonically; what did not verify, by its bytes.
        evidenceHash:
          verdict.verdict === 'accept'
            ? toHex(verdict.claims.evidenceHash)
            : createHash('sha256').update(evidence).digest('hex'),
        nonce,
      });
      return {
        claims,
        jwt: await options.signer.sign({ ...claims }, ATTESTATION_RESULT_TYPE),
      };
    },
  };
}

export type AttestationResults = ReturnType<typeof createAttestationResults>;
