/**
 * Price Alerts bot: each tick reads a price from the simulated feed, emits a `price` metric,
 * raises an `alert` metric when the move since the previous tick crosses the threshold, and
 * saves its history in the0 state (so the next run, and the query process, see it).
 *
 * Runs until SIGTERM (realtime), or for `max_iterations` ticks.
 */

import { error, log, metric, parse, state, success } from '@the0/sdk';

import { nextPrice, random } from './feed';
import {
  ALERTS_SIZE,
  HISTORY_SIZE,
  STATE_KEY,
  loadState,
  round,
  withDefaults,
  type Alert,
  type BotState,
  type PriceAlertsConfig,
} from './model';

function severity(absChange: number, threshold: number): Alert['severity'] {
  if (absChange >= threshold * 2) return 'high';
  if (absChange >= threshold * 1.5) return 'medium';
  return 'low';
}

/** One tick: a new price, its metric, and an alert when the move is large enough. */
function tick(bot: BotState, config: PriceAlertsConfig, rand: () => number): void {
  const last = bot.priceHistory.length > 0 ? bot.priceHistory[bot.priceHistory.length - 1] : config.base_price;
  const price = nextPrice(last, config.base_price, rand);
  const changePct = round(((price - last) / last) * 100, 3);
  bot.ticks += 1;
  bot.priceHistory.push(price);
  if (bot.priceHistory.length > HISTORY_SIZE) bot.priceHistory.shift();
  metric('price', { symbol: config.symbol, value: price, change_pct: changePct, tick: bot.ticks });

  const absChange = Math.abs(changePct);
  if (absChange >= config.alert_threshold) {
    const alert: Alert = {
      tick: bot.ticks,
      type: changePct > 0 ? 'price_spike' : 'price_drop',
      price,
      change_pct: changePct,
      severity: severity(absChange, config.alert_threshold),
    };
    bot.alertCount += 1;
    bot.alerts.push(alert);
    if (bot.alerts.length > ALERTS_SIZE) bot.alerts.shift();
    metric('alert', { symbol: config.symbol, ...alert, total_alerts: bot.alertCount });
  }
}

/**
 * Entry point. The the0 Node wrapper calls `main(botId, config)`; run directly
 * (`node dist/main.js`), it reads BOT_ID and BOT_CONFIG itself.
 */
export async function main(botId?: string, rawConfig?: Partial<PriceAlertsConfig>): Promise<void> {
  const input = botId === undefined ? parse<Partial<PriceAlertsConfig>>() : { id: botId, config: rawConfig };
  const config = withDefaults(input.config);
  const bot = loadState(config.symbol);
  // Continue the feed where the previous run stopped: same seed and tick, same prices.
  const rand = random(config.seed * 1_000_003 + bot.ticks);

  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    stopping = true;
    wake?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log('price alerts started', { bot_id: input.id, symbol: config.symbol, resumed_at_tick: bot.ticks });

  let ticks = 0;
  while (!stopping && (config.max_iterations === 0 || ticks < config.max_iterations)) {
    tick(bot, config, rand);
    ticks += 1;
    state.set(STATE_KEY, bot);
    if (config.update_interval_ms > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, config.update_interval_ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  log('price alerts stopped', { ticks, total_alerts: bot.alertCount, stopped_by_signal: stopping });
  success(`processed ${ticks} prices`, { ticks, total_ticks: bot.ticks, total_alerts: bot.alertCount });
}

if (require.main === module) {
  main().catch((e: unknown) => error(e instanceof Error ? e.message : String(e)));
}
