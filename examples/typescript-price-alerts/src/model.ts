/** What the bot keeps in the0 state, shared by the bot and its queries. */

import { state } from '@the0/sdk';

/** The state key holding everything the bot remembers. */
export const STATE_KEY = 'bot_state';
/** Prices kept in the history. */
export const HISTORY_SIZE = 100;
/** Alerts kept in the history. */
export const ALERTS_SIZE = 50;

export interface PriceAlertsConfig {
  symbol: string;
  base_price: number;
  alert_threshold: number;
  update_interval_ms: number;
  max_iterations: number;
  seed: number;
}

export const DEFAULTS: PriceAlertsConfig = {
  symbol: 'BTC/USD',
  base_price: 45000,
  alert_threshold: 0.15,
  update_interval_ms: 5000,
  max_iterations: 0,
  seed: 1,
};

export interface Alert {
  tick: number;
  type: 'price_spike' | 'price_drop';
  price: number;
  change_pct: number;
  severity: 'low' | 'medium' | 'high';
}

export interface BotState {
  symbol: string;
  /** Ticks processed over every run. */
  ticks: number;
  /** The last HISTORY_SIZE prices, oldest first. */
  priceHistory: number[];
  /** Alerts raised over every run. */
  alertCount: number;
  /** The last ALERTS_SIZE alerts, oldest first. */
  alerts: Alert[];
}

export function withDefaults(config: Partial<PriceAlertsConfig> | undefined): PriceAlertsConfig {
  return { ...DEFAULTS, ...(config ?? {}) };
}

/** The persisted state, or a fresh one for `symbol`. */
export function loadState(symbol: string): BotState {
  return state.get<BotState>(STATE_KEY) ?? { symbol, ticks: 0, priceHistory: [], alertCount: 0, alerts: [] };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
