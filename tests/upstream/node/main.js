// A grid bot written as bots for upstream's @alexanderwanyoike/the0-node are written: CommonJS,
// `main(botId, config)` for the platform's wrapper, `parse()` when run directly.
const { parse, success, error, metric, log, state } = require('@alexanderwanyoike/the0-node');

/** The grid level a price falls in: 0 at or below `low`, `levels` at or above `high`. */
function levelOf(price, low, high, levels) {
  if (price <= low) return 0;
  if (price >= high) return levels;
  return Math.floor(((price - low) / (high - low)) * levels);
}

async function main(botId, config) {
  const { symbol = 'BTC/USD', price, low = 90, high = 110, levels = 4 } = config;
  if (typeof price !== 'number') {
    error('config.price must be a number', { got: price ?? null });
    return;
  }
  const level = levelOf(price, low, high, levels);
  const previous = state.get('level', null);
  const holdings = state.get('holdings', 0);
  let action = 'hold';
  if (previous !== null && level < previous) action = 'buy';
  if (previous !== null && level > previous && holdings > 0) action = 'sell';
  const next = holdings + (action === 'buy' ? 1 : action === 'sell' ? -1 : 0);
  state.set('level', level);
  state.set('holdings', next);
  state.set('trades', [...state.get('trades', []), { action, price }].slice(-10));
  metric('grid', { symbol, level, action, price });
  log(`${action} at level ${level}`, { botId, holdings: next });
  success(`${action} ${symbol}`, { level, holdings: next });
}

module.exports = { main, levelOf };

if (require.main === module) {
  const { id, config } = parse();
  main(id, config);
}
