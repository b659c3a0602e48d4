// state.get / state.set operations per second: @the0/sdk (shared core: atomic canonical writes,
// STATE_DIR and QUERY_PATH read from process.env at every call) against upstream's pure-JavaScript
// file IO (fs.writeFileSync / fs.readFileSync of JSON, STATE_DIR read at every call), same values.
//
//   node bench-state.js SECONDS [DIR] [SDK]   DIR: where the state directories go (default: tmpdir)
//
// Prints one JSON line: {"the0": {"set": ops/s, "get": ops/s}, "upstream": {...}}.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const seconds = Number(process.argv[2] || 2);
const parent = process.argv[3] || os.tmpdir();
const { state } = require(process.argv[4] || path.resolve(__dirname, '..'));

const VALUE = { symbol: 'BTC/USD', position: 0.5, prices: Array.from({ length: 20 }, (_, i) => 45000.5 + i), open: true };
const KEYS = Array.from({ length: 16 }, (_, i) => `key${i}`);

/** The upstream SDK's state functions (v0.3.x), reduced to what the benchmark calls. */
const upstream = {
  dir: () => process.env.UPSTREAM_STATE_DIR || '/state/.the0-state',
  file(key) {
    if (!key || key.includes('/') || key.includes('\\') || key.includes('..')) throw new Error('bad key');
    return path.join(this.dir(), `${key}.json`);
  },
  set(key, value) {
    fs.mkdirSync(this.dir(), { recursive: true });
    fs.writeFileSync(this.file(key), JSON.stringify(value));
  },
  get(key, defaultValue) {
    const file = this.file(key);
    if (!fs.existsSync(file)) return defaultValue;
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return defaultValue;
    }
  },
};

function rate(fn) {
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (const key of KEYS) fn(key);
    count += KEYS.length;
    const now = process.hrtime.bigint();
    if (now >= deadline) return count / (Number(now - start) / 1e9);
  }
}

const root = fs.mkdtempSync(path.join(parent, 'the0-bench-state-'));
try {
  process.env.STATE_DIR = path.join(root, 'the0');
  process.env.UPSTREAM_STATE_DIR = path.join(root, 'upstream');
  const out = { the0: {}, upstream: {} };
  for (let round = 0; round < 2; round += 1) {
    // the second round counts (warm caches, JIT)
    out.the0.set = rate((k) => state.set(k, VALUE));
    out.upstream.set = rate((k) => upstream.set(k, VALUE));
    out.the0.get = rate((k) => state.get(k));
    out.upstream.get = rate((k) => upstream.get(k));
  }
  if (JSON.stringify(state.get(KEYS[0])) !== JSON.stringify(upstream.get(KEYS[0]))) throw new Error('values differ');
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
