export { createKdsSource, cacheFile, type KdsSourceOptions } from './source.js';
export { vcekPath, certChainPath, crlPath, KDS_BASE_URL, type KdsKeyKind } from './urls.js';
