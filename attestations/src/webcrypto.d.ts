// Node's WebCrypto types under the global names that @hpke/core's declarations use (they assume a DOM lib).
import type { webcrypto } from 'node:crypto';

declare global {
  type Crypto = webcrypto.Crypto;
  type CryptoKey = webcrypto.CryptoKey;
  type CryptoKeyPair = webcrypto.CryptoKeyPair;
  type SubtleCrypto = webcrypto.SubtleCrypto;
  type JsonWebKey = webcrypto.JsonWebKey;
  type KeyAlgorithm = webcrypto.KeyAlgorithm;
  type KeyUsage = webcrypto.KeyUsage;
}
