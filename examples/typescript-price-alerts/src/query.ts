/**
 * Price Alerts queries (read-only): the bot's state as the query process sees it.
 *
 *   /current-price          latest price, high, low and change over the kept history
 *   /alerts?limit=N         the last N alerts, newest first (default 10)
 *   /statistics             counters and the effective configuration
 */

import { query } from '@the0/sdk';

import { loadState, round, withDefaults, type PriceAlertsConfig } from './model';

function config(): ReturnType<typeof withDefaults> {
  return withDefaults(query.getConfig<Partial<PriceAlertsConfig>>());
}

query.handler('/current-price', () => {
  const { symbol } = config();
  const history = loadState(symbol).priceHistory;
  if (history.length === 0) return { symbol, status: 'no_data' };
  const price = history[history.length - 1];
  return {
    symbol,
    price,
    high: Math.max(...history),
    low: Math.min(...history),
    change_pct: round(((price - history[0]) / history[0]) * 100, 3),
    data_points: history.length,
  };
});

query.handler('/alerts', (req) => {
  const limit = Number(req.get('limit', '10'));
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`limit must be a positive integer, got ${req.get('limit')}`);
  }
  const bot = loadState(config().symbol);
  return { total_alerts: bot.alertCount, alerts: bot.alerts.slice(-limit).reverse() };
});

query.handler('/statistics', async () => {
  const cfg = config();
  const bot = loadState(cfg.symbol);
  return {
    symbol: cfg.symbol,
    ticks: bot.ticks,
    total_alerts: bot.alertCount,
    data_points: bot.priceHistory.length,
    config: {
      alert_threshold: cfg.alert_threshold,
      update_interval_ms: cfg.update_interval_ms,
    },
  };
});

query.run();
