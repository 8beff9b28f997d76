/**
 * `@veritee/verifier`: the verifier as a library, for embedding, tests and
 * benchmarks; `src/main.ts` wires the same parts into the service.
 */
export { createVerifier, type VerifierDeps } from './verifier.js';
export { createApp, type AppDeps } from './app.js';
export { parseConfig, type VerifierConfig } from './config.js';
export { openSqliteLog } from './log/sqlite-log.js';
export { openPostgresLog } from './log/postgres-log.js';
export type { ReceiptLog, LogEntry, AppendResult, ReceiptRecord } from './log/receipt-log.js';
export type { Signer } from './signing/signer.js';
export { openLocalSigner } from './signing/local-signer.js';
export { openKmsSigner } from './signing/kms-signer.js';
export {
  createInlineAppraiser,
  createPooledAppraiser,
  type Appraiser,
} from './service/appraiser.js';
export { createReceiptService, ReceiptRefused, type ReceiptService } from './service/receipts.js';
export { createStatementLog, type StatementLog, type Appended } from './log/statements.js';
export { kmsUnwrap } from './service/kms-unwrap.js';
export type { PolicyRegistry } from './service/policy-registry.js';
