/**
 * The error code a service's problem names, passed on to clients only when it
 * is shaped like one of ours: never free text an upstream chose.
 */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The `code` of a problem object, or undefined when it has none of our shape. */
export function problemCodeOf(problem: unknown): string | undefined {
  const code = (problem as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && CODE.test(code) ? code : undefined;
}
