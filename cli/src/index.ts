export { runVerify, VERIFY_USAGE, type VerifyDeps } from './commands/verify.js';
export { formatVerdict } from './print.js';
export { UsageError } from './usage-error.js';
