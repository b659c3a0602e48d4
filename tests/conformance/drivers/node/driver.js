#!/usr/bin/env node
// The Node SDK's conformance driver: the command line of `the0-driver-rust`
// (tests/conformance/src/bin/the0-driver-rust.rs), through the public API of @the0/sdk.
//
//   driver query [--custom-info]          register the standard handlers, then query.run()
//   driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
//   driver read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
//   driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
//                | log MSG [DATA|-] [LEVEL]
//
// `state` and `input` print one JSON line: {"ok": <result>} or
// {"error": {"status": "<STATUS>", "message": "<text>"}}.
//
// The SDK is loaded from ../../../../sdk-node (built with `npm run build` there), or from the
// folder or module named by THE0_NODE_SDK.
'use strict';

const path = require('node:path');

const sdk = require(process.env.THE0_NODE_SDK || path.resolve(__dirname, '../../../../sdk-node'));
const { query, state, The0Error } = sdk;

const MISSING = Symbol('missing');

function errorJson(e) {
  if (e instanceof The0Error) return { status: e.status, message: e.message };
  throw e;
}

function writeProbe(write) {
  try {
    write();
    return { written: true };
  } catch (e) {
    return { written: false, error: errorJson(e) };
  }
}

function runQuery(customInfo) {
  query.handler('/echo', (req) => {
    const strings = {};
    for (const key of Object.keys(req.params)) strings[key] = req.getString(key);
    return { path: req.path, params: req.params, strings };
  });
  query.handler('/fail', () => {
    throw new Error('deliberate failure');
  });
  query.handler('/sleep', async (req) => {
    const ms = Number.parseInt(req.getString('ms', '0'), 10) || 0;
    await sdk.sleep(ms);
    return { slept_ms: ms };
  });
  query.handler('/state', (req) => {
    const key = req.getString('key', '');
    try {
      const value = state.get(key, MISSING);
      const exists = value !== MISSING;
      return { key, exists, value: exists ? value : null };
    } catch (e) {
      return { key, error: errorJson(e) };
    }
  });
  query.handler('/write', (req) => {
    const key = req.getString('key', '');
    const value = req.getString('value', 'null');
    return writeProbe(() => state.setJson(key, value));
  });
  query.handler('/config', () => query.getConfig());
  query.handler('/params', () => query.getParamStrings());
  if (customInfo) {
    query.handler('/info', () => writeProbe(() => state.set('info-probe', true)));
  }
  return query.run();
}

function printOutcome(fn) {
  let line;
  try {
    const value = fn();
    line = { ok: value === undefined ? null : value };
  } catch (e) {
    line = { error: errorJson(e) };
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function stateOp(op) {
  const [name, ...args] = op;
  if (name === 'set' && args.length === 2) return state.setJson(args[0], args[1]);
  if (name === 'get' && args.length === 1) {
    const value = state.get(args[0], MISSING);
    return value === MISSING ? { found: false } : { found: true, value };
  }
  if (name === 'exists' && args.length === 1) return state.exists(args[0]);
  if (name === 'delete' && args.length === 1) return state.delete(args[0]);
  if (name === 'list' && args.length === 0) return state.list();
  if (name === 'clear' && args.length === 0) return state.clear();
  throw new The0Error(`unknown state operation ${JSON.stringify(op)}`, 'INVALID_ARGUMENT');
}

function readLoop(key, count) {
  let missing = 0;
  let torn = 0;
  let failed = 0;
  for (let i = 0; i < count; i += 1) {
    try {
      if (state.getJson(key) === undefined) missing += 1;
    } catch (e) {
      if (e instanceof The0Error && e.status === 'CORRUPT_STATE') torn += 1;
      else failed += 1;
    }
  }
  process.stdout.write(`${JSON.stringify({ reads: count, missing, torn, failed })}\n`);
}

/** JSON text given on the command line, parsed. */
function jsonArg(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new The0Error(`argument is not valid JSON: ${e.message}`, 'INVALID_JSON');
  }
}

function inputOp(op) {
  const [name, ...args] = op;
  if (name === 'parse' && args.length === 0) {
    const { id, config } = sdk.parse();
    return { bot_id: id, config };
  }
  if (name === 'success' && args.length === 1) return sdk.success(args[0]);
  if (name === 'success' && args.length === 2) return sdk.success(args[0], jsonArg(args[1]));
  if (name === 'error' && args.length === 1) return sdk.error(args[0]);
  if (name === 'result' && args.length === 1) return sdk.result(jsonArg(args[0]));
  if (name === 'metric' && args.length === 2) return sdk.metric(args[0], jsonArg(args[1]));
  if (name === 'log' && args.length >= 1 && args.length <= 3) {
    const data = args[1] === undefined || args[1] === '-' ? undefined : jsonArg(args[1]);
    return sdk.log(args[0], data, args[2]);
  }
  throw new The0Error(`unknown input operation ${JSON.stringify(op)}`, 'INVALID_ARGUMENT');
}

function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'query':
      return runQuery(rest.includes('--custom-info'));
    case 'state':
      return printOutcome(() => stateOp(rest));
    case 'read-loop':
      if (rest.length === 2) return readLoop(rest[0], Number.parseInt(rest[1], 10));
      break;
    case 'input':
      return printOutcome(() => inputOp(rest));
    default:
      break;
  }
  process.stderr.write('usage: driver.js query|state|read-loop|input ... (see the source header)\n');
  process.exitCode = 2;
  return undefined;
}

main(process.argv.slice(2));
