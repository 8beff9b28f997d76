export { BUNDLED_MODEL, bundledModelHash } from './model/bundled.js';
