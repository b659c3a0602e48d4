'use strict';
// the0 bot-mode wrapper for Node bots, written out and run by the0-agent.
//
// Loads the bot's entrypoint (SCRIPT_PATH, default `main`) from the code directory — CommonJS
// through require, ES modules through import() — and awaits its `main(botId, config)` (or the
// default export, or the module itself when it is a function). The result file
// `/<CODE_MOUNT_DIR>/result.json` then says what happened, unless the bot wrote its own:
// - main resolved: {"status":"success"}, exit 0 (handles the bot left open do not keep it alive);
// - main threw or rejected: {"status":"error","message":...}, the stack on stderr, exit 1;
// - SIGTERM: {"status":"terminated"}, exit 143.

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

function resultPath() {
  return path.join('/', (process.env.CODE_MOUNT_DIR || 'bot').replace(/^\/+/, ''), 'result.json');
}

function writeResult(result) {
  const target = resultPath();
  const temp = path.join(path.dirname(target), '.result.json.wrapper.tmp');
  try {
    fs.writeFileSync(temp, JSON.stringify(result));
    fs.renameSync(temp, target);
  } catch (error) {
    process.stderr.write(JSON.stringify({ level: 'error', message: `cannot write ${target}: ${error.message}` }) + '\n');
  }
}

async function loadMain(script) {
  let mod;
  try {
    mod = require(script);
  } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') {
      mod = await import(pathToFileURL(require.resolve(script)).href);
    } else {
      throw error;
    }
  }
  const candidates = [mod && mod.main, mod && mod.default && mod.default.main, mod && mod.default, mod];
  const main = candidates.find((candidate) => typeof candidate === 'function');
  if (!main) {
    throw new TypeError(`${script} exports no main(botId, config) function`);
  }
  return main;
}

async function run() {
  fs.rmSync(resultPath(), { force: true });
  process.on('SIGTERM', () => {
    writeResult({ status: 'terminated', message: 'stopped by SIGTERM' });
    process.exit(143);
  });
  const script = path.resolve(process.cwd(), process.env.SCRIPT_PATH || 'main');
  const main = await loadMain(script);
  const config = JSON.parse(process.env.BOT_CONFIG || '{}');
  await main(process.env.BOT_ID || '', config);
  if (!fs.existsSync(resultPath())) {
    writeResult({ status: 'success', message: 'Bot executed successfully' });
  }
}

run().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error && error.stack) || error}\n`);
    writeResult({ status: 'error', message: String((error && error.message) || error) });
    process.exit(1);
  },
);
