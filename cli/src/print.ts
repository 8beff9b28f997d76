import type { Verdict } from '@veritee/attestations';

const LABEL_WIDTH = 18;

/** Human-readable fields and verdict; with `json`, a last line holding the verdict as one JSON object. */
export function formatVerdict(verdict: Verdict, json: boolean): string {
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
  if (verdict.error !== undefined) lines.push(`  ${verdict.error.code}: ${verdict.error.message}`);
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
        ...(verdict.error === undefined ? {} : { error: verdict.error }),
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}
