#!/usr/bin/env node
// The benchmark's servers: one JavaScript handler, served either by the core (`core`: the
// @the0/sdk query server, configured by BOT_TYPE/THE0_QUERY_HOST/THE0_QUERY_PORT) or by a
// plain node:http server (`http`, on 127.0.0.1:$BENCH_PORT) that builds the same envelope.
'use strict';

const http = require('node:http');
const path = require('node:path');

const sdk = require(path.resolve(__dirname, '..'));

/** The handler both servers run: a trivial price lookup. */
function handler(req) {
  return { symbol: req.get('symbol', 'BTC/USD'), price: 45000.5, ok: true };
}

function plainServer(port) {
  http
    .createServer((req, res) => {
      const url = new URL(req.url, 'http://localhost');
      const params = Object.fromEntries(url.searchParams);
      const send = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname !== '/price') {
        send(404, { status: 'error', error: `No handler for path: ${url.pathname}` });
        return;
      }
      const request = { path: url.pathname, params, get: (k, d) => (k in params ? params[k] : d) };
      Promise.resolve()
        .then(() => handler(request))
        .then(
          (data) => send(200, { status: 'ok', data }),
          (e) => send(500, { status: 'error', error: e instanceof Error ? e.message : String(e) }),
        );
    })
    .listen(port, '127.0.0.1');
}

const mode = process.argv[2];
if (mode === 'core') {
  sdk.query.handler('/price', handler);
  sdk.query.run();
} else if (mode === 'http') {
  plainServer(Number(process.env.BENCH_PORT));
} else {
  process.stderr.write('usage: bench-server.js core|http\n');
  process.exit(2);
}
