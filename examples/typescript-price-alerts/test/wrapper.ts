// What the runtime's Node wrapper does with a bot entrypoint (contract §4): require the file
// named by SCRIPT_PATH, take `main` (or the default export, or the module), and await
// `main(BOT_ID, config)`; a rejection exits 1.
import * as path from 'node:path';

type Main = (botId: string, config: unknown) => unknown;

const entry = require(path.resolve(process.env.SCRIPT_PATH ?? 'main')) as { main?: Main; default?: Main } | Main;
const main = (typeof entry === 'function' ? entry : (entry.main ?? entry.default)) as Main;
const config: unknown = JSON.parse(process.env.BOT_CONFIG || '{}');

Promise.resolve(main(process.env.BOT_ID ?? '', config)).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
