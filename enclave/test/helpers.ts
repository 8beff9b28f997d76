import { loadModel } from '../src/model/model.js';
import { BUNDLED_MODEL } from '../src/model/bundled.js';

/** The bundled model, as `npm run build` builds it. */
export const bundledModel = await loadModel({
  modelPath: BUNDLED_MODEL.path,
  configPath: BUNDLED_MODEL.configPath,
  expectedSha256: BUNDLED_MODEL.sha256,
});
