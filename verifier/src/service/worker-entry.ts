/**
 * Where a worker thread of the verifier starts. The build output runs the
 * module's .js; sources (tests, benchmarks) run tsx-worker.mjs, which
 * registers tsx inside the thread and then loads the .ts module that
 * workerData.module names.
 */
export function workerEntry(
  name: string,
  callerUrl: string,
): { readonly filename: URL; readonly module: string } {
  const fromSources = callerUrl.endsWith('.ts');
  const module = new URL(`${name}${fromSources ? '.ts' : '.js'}`, callerUrl);
  return {
    filename: fromSources ? new URL('./tsx-worker.mjs', import.meta.url) : module,
    module: module.href,
  };
}
