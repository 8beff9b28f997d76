export { runVerify, VERIFY_USAGE, type VerifyDeps } from './commands/verify.js';
export { formatVerdict } from './print.js';
export { UsageError } from './usage-error.js';
export { runSim, SIM_USAGE, type SimDeps } from './commands/sim.js';
export { loadDevPki, loadOrCreateDevPki, veriteeHome, devPkiPath } from '@veritee/mock/dev-pki';
