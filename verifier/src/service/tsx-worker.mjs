// A worker-thread entry for running TypeScript sources (tests, benchmarks):
// Node 20 does not apply tsx's --import hooks inside worker threads, so the
// worker registers tsx itself, then loads the module workerData names.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const worker = await import(workerData.module);
export default worker.default;
