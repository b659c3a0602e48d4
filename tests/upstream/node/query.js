// The bot's queries, upstream style: handlers registered with query.handler, exported so that
// tests can call them with a request object of their own.
const { query, state } = require('@alexanderwanyoike/the0-node');

function holdings(req) {
  return { holdings: state.get('holdings', 0), level: state.get('level', null) };
}

async function trades(req) {
  const limit = req.get('limit', 3);
  const all = state.get('trades', []);
  return { trades: all.slice(-limit), limit, symbol: query.getConfig().symbol };
}

function params() {
  return query.getParams();
}

function reset() {
  state.clear(); // queries are read-only: this throws
  return { reset: true };
}

query.handler('/holdings', holdings);
query.handler('/trades', trades);
query.handler('/params', params);
query.handler('/reset', reset);

module.exports = { holdings, trades, params, reset };

if (require.main === module) {
  query.run();
}
