export { createClient, type Client, type InferenceResult } from './client.js';
export { checkEnclave, type AttestedEnclave } from './check-enclave.js';
export { checkAnswer, type CheckedAnswer } from './check-answer.js';
export { checkReceipt } from './check-receipt.js';
export { Refused } from './refused.js';
export type { ClientOptions, ClientPolicy } from './options.js';
export { openAiHandler, veriteeFetch, RECEIPT_HEADER, type OpenAiOptions } from './openai.js';
