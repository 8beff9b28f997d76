/**
 * The part of KMS key-policy evaluation that attested key release depends on:
 * statements with Effect, Action and the `kms:RecipientAttestation:*`
 * condition keys (ImageSha384, PCR0..PCR31) under StringEqualsIgnoreCase.
 * An explicit Deny wins; otherwise some Allow must match. A key without a
 * policy allows everything, as a fresh key's default policy does for its account.
 */

/** What a verified Recipient attestation document says: ImageSha384 and PCRn as hex. */
export type RecipientClaims = Readonly<Record<string, string>>;

interface Statement {
  readonly Effect?: unknown;
  readonly Action?: unknown;
  readonly Condition?: unknown;
}

const PREFIX = 'kms:recipientattestation:';

function actionMatches(pattern: unknown, action: string): boolean {
  const patterns = Array.isArray(pattern) ? pattern : [pattern];
  // IAM action patterns: case-insensitive, `*` matching any run of characters.
  const matches = (value: string) =>
    new RegExp(
      `^${value
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    ).test(action);
  return patterns.some((value) => typeof value === 'string' && matches(value));
}

/**
 * Whether every condition holds for these claims (no claims: no attestation
 * condition holds). A condition this evaluator does not know counts as
 * `unknown`: it then matches a Deny and never an Allow, so it fails closed.
 */
function conditionsHold(
  condition: unknown,
  claims: RecipientClaims | undefined,
  unknown: boolean,
): boolean {
  if (condition === undefined) return true;
  if (typeof condition !== 'object' || condition === null) return unknown;
  for (const [operator, tests] of Object.entries(condition)) {
    if (operator !== 'StringEqualsIgnoreCase' && operator !== 'StringEquals') return unknown;
    for (const [name, expected] of Object.entries(tests as Record<string, unknown>)) {
      if (!name.toLowerCase().startsWith(PREFIX)) return unknown;
      const claim = name.slice(PREFIX.length).toLowerCase();
      const actual = Object.entries(claims ?? {}).find(([key]) => key.toLowerCase() === claim)?.[1];
      const allowed = (Array.isArray(expected) ? expected : [expected]).map(String);
      if (
        actual === undefined ||
        !allowed.some((value) =>
          operator === 'StringEquals'
            ? value === actual
            : value.toLowerCase() === actual.toLowerCase(),
        )
      )
        return false;
    }
  }
  return true;
}

export function evaluateKeyPolicy(
  policy: unknown,
  action: string,
  claims: RecipientClaims | undefined,
): { allowed: true } | { allowed: false; reason: string } {
  if (policy === undefined) return { allowed: true };
  const raw = (policy as { Statement?: unknown }).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]) as Statement[];
  const matching = statements.filter(
    (statement) =>
      actionMatches(statement.Action, action) &&
      conditionsHold(statement.Condition, claims, statement.Effect === 'Deny'),
  );
  if (matching.some((statement) => statement.Effect === 'Deny'))
    return { allowed: false, reason: `the key policy denies ${action}` };
  if (matching.some((statement) => statement.Effect === 'Allow')) return { allowed: true };
  return {
    allowed: false,
    reason: `no key policy statement allows ${action}${claims === undefined ? ' without an attestation' : ' for this attestation'}`,
  };
}
