/** The level of a request's log line: server failures are errors, refusals warnings. */
export function levelOf(status: number): 'info' | 'warn' | 'error' {
  if (status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return 'info';
}
