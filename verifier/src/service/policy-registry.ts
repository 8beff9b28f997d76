/**
 * The verifier's policy: a base policy from its file, plus reference values
 * that operators register and retire through the admin API. Every change is a
 * new policy version, signed and appended to the log (`veritee.policy-change/v1`),
 * and the log is the source of truth: the registry is rebuilt by replaying the
 * changes it holds, so replicas sharing a PostgreSQL log agree on every version.
 */
import { RequestError, toHex, UpstreamError } from '@veritee/attestations';
import { type Claims } from '@veritee/attestations/evidence';
import { applyReferenceValues, type ReferenceSet } from '@veritee/attestations/policy';
import {
  POLICY_CHANGE_TYPE,
  type PolicyChangeClaims,
  type PolicyChangeEntry,
  type ReferenceValue,
  ANY_MODEL,
  applyChange,
  approvalsOf,
  isRegistered,
  type Approvals,
} from '@veritee/attestations/receipt';
import type { ReceiptLog } from '../log/receipt-log.js';
import type { StatementLog } from '../log/statements.js';
import type { PolicyRef } from './receipts.js';

interface State extends Approvals {
  readonly version: number;
  readonly history: readonly { claims: PolicyChangeClaims; statement: string }[];
}

function payloadOf(jws: string): PolicyChangeClaims {
  const [, payload] = jws.split('.');
  try {
    return JSON.parse(
      Buffer.from(payload ?? '', 'base64url').toString('utf8'),
    ) as PolicyChangeClaims;
  } catch (error) {
    throw new UpstreamError('LOG_CORRUPT', 'a policy change in the log is not a JWS', {
      cause: error,
    });
  }
}

/** Applies one change. */
function apply(state: State, claims: PolicyChangeClaims, statement: string): State {
  return {
    ...applyChange(state, claims),
    version: claims.policy.version,
    history: [...state.history, { claims, statement }],
  };
}

export interface PolicyRegistryOptions {
  /** The policy from its file: its id, its version (the first), and its rules. */
  readonly base: PolicyRef;
  /** Read for the changes already logged. */
  readonly log: ReceiptLog;
  /** Where changes are signed into the log. */
  readonly statements: StatementLog;
  readonly issuer: string;
  readonly clock: () => Date;
}

export function createPolicyRegistry(options: PolicyRegistryOptions) {
  const { base } = options;
  const prefix = `policy-${base.id}-`;
  const initial = (): State => ({
    version: base.version,
    // The base file's own lists are registered values that no model is tied to.
    ...approvalsOf({
      measurements: base.policy.snp?.measurements,
      pcrs: base.policy.nitro?.pcrs,
    }),
    history: [],
  });
  let state = initial();
  let current: PolicyRef = base;

  const derive = (next: State): PolicyRef => ({
    id: base.id,
    version: next.version,
    policy: applyReferenceValues(base.policy, {
      ...(next.snp === undefined ? {} : { snp: next.snp }),
      ...(next.nitro === undefined ? {} : { nitro: next.nitro }),
    } satisfies ReferenceSet),
  });

  /** Rebuilds the state from every change in the log. */
  async function refresh(): Promise<void> {
    let next = initial();
    for (const { receipt } of await options.log.findReceipts(prefix))
      next = apply(next, payloadOf(receipt), receipt);
    state = next;
    current = derive(next);
  }

  return {
    refresh,

    /** The policy in force now. */
    current: (): PolicyRef => current,

    /**
     * Whether a model may be vouched for under this measurement (SNP) or PCR0 (Nitro):
     * yes when no reference value ties models to it, or one ties this model (or any).
     */
    allowsModel(claims: Claims, modelHashBytes: Uint8Array): boolean {
      // The registry keys reference values by their lower-case hex, as they are logged.
      const measurement = toHex(claims.measurement);
      const modelHash = toHex(modelHashBytes);
      const entries =
        claims.format === 'sev-snp'
          ? [state.snp?.get(measurement)]
          : [...(state.nitro?.values() ?? [])]
              .filter((entry) => entry.pcrs.pcr0 === measurement)
              .map((entry) => entry.models);
      const tied = entries.filter((models) => models !== undefined);
      if (tied.length === 0) return true;
      return tied.some((models) => models.has(ANY_MODEL) || models.has(modelHash));
    },

    /** Every change, oldest first, with its signed statement. */
    history: () => state.history,

    /**
     * Registers or retires a reference value: a new policy version, durable in
     * the log before this resolves.
     * @throws RequestError 409 POLICY_REFERENCE_UNKNOWN when retiring what is not registered
     */
    async change(
      action: 'register' | 'retire',
      reference: ReferenceValue,
      note: string | undefined,
    ): Promise<{ version: number; index: number; statement: string }> {
      const { entry, index, statement } = await options.statements.appendPrepared(async () => {
        // Under the log's append lock: every earlier change is committed and replayed here.
        await refresh();
        if (action === 'retire' && !isRegistered(state, reference))
          throw new RequestError(
            409,
            'POLICY_REFERENCE_UNKNOWN',
            'no such reference value is registered',
          );
        const version = current.version + 1;
        const entry: PolicyChangeEntry = {
          typ: POLICY_CHANGE_TYPE,
          iss: options.issuer,
          iat: Math.floor(options.clock().getTime() / 1000),
          jti: `${prefix}${version}`,
          policy: { id: base.id, version },
          action,
          reference,
          ...(note === undefined ? {} : { note }),
        };
        return entry;
      });
      await refresh();
      return { version: entry.policy.version, index, statement };
    },
  };
}

export type PolicyRegistry = ReturnType<typeof createPolicyRegistry>;
