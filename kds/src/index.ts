export {
  createKdsSource,
  directoryStore,
  cacheFile,
  type KdsSource,
  type KdsSourceOptions,
  type CollateralStore,
} from './source.js';
export { vcekPath, certChainPath, crlPath, KDS_BASE_URL, type KdsKeyKind } from './urls.js';
