/** `@veritee/attestations/config`: settings from environment variables and config files. */
export {
  mergeSettings,
  loadSettings,
  integerSetting,
  flagSetting,
  listSetting,
  httpUrlSetting,
  CONFIG_FILE_VARIABLE,
} from './settings.js';
