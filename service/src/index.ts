/**
 * `@veritee/service`: the one skeleton the enclave, host and verifier share.
 */
export { parseListen, tcpListen, veriteeHome, type Listen } from './settings.js';
