// ESM entry point of @the0/sdk: a wrapper over the CommonJS build, so that `import` and
// `require` share one module instance (one handler table, one loaded addon).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sdk = require('./index.js');

export const {
  parse,
  success,
  error,
  result,
  metric,
  log,
  sleep,
  state,
  query,
  ReadOnlyStateError,
  The0Error,
  STATUS_NAMES,
} = sdk;

export default sdk.default;
