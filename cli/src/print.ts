import type { Appraisal } from '@veritee/attestations/evidence';

const LABEL_WIDTH = 18;

/** Human-readable fields and verdict; with `json`, a last line holding the verdict as one JSON object. */
export function formatVerdict(verdict: Appraisal, json: boolean): string {
  const lines = [`format          ${verdict.format}${verdict.simulated ? ' (simulated)' : ''}`];
  for (const [name, value] of Object.entries(verdict.fields)) {
    const text =
      typeof value === 'object'
        ? Object.entries(value)
            .map(([key, level]) => `${key}=${level}`)
            .join(' ')
        : String(value);
    lines.push(`${name.padEnd(LABEL_WIDTH)}${text}`);
  }
  lines.push(`verdict         ${verdict.verdict.toUpperCase()}`);
  const error = verdict.verdict === 'reject' ? verdict.error : undefined;
  if (error !== undefined) lines.push(`  ${error.code}: ${error.message}`);
  for (const violation of verdict.violations) {
    lines.push(
      `  ${violation.code}: ${violation.field} expected ${violation.expected}, found ${violation.actual}`,
    );
  }
  if (json) {
    lines.push(
      JSON.stringify({
        verdict: verdict.verdict,
        format: verdict.format,
        simulated: verdict.simulated,
        codes: verdict.codes,
        fields: verdict.fields,
        violations: verdict.violations,
        ...(error === undefined ? {} : { error }),
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}
