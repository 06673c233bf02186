// Pure data logic of the chart page: no DOM, no chart library, no network.
// Everything here is unit-tested with `node --test` (web/test/).

/** The timeframes the platform aggregates, in selector order. */
export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'];

/** Duration of each timeframe in seconds. */
export const TIMEFRAME_SECONDS = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '1h': 3600,
  '4h': 14400,
  '1d': 86400,
};

/**
 * The indicator lines drawn by the page: the key in BAR.indicators, the pane
 * it belongs to and its label in the legend.
 */
export const INDICATOR_LINES = [
  { key: 'bb_upper', pane: 'main', label: 'BB upper' },
  { key: 'bb_middle', pane: 'main', label: 'BB mid' },
  { key: 'bb_lower', pane: 'main', label: 'BB lower' },
  { key: 'sma_20', pane: 'main', label: 'SMA 20' },
  { key: 'sma_50', pane: 'main', label: 'SMA 50' },
  { key: 'ema_12', pane: 'main', label: 'EMA 12' },
  { key: 'ema_26', pane: 'main', label: 'EMA 26' },
  { key: 'vwap', pane: 'main', label: 'VWAP' },
  { key: 'rsi_14', pane: 'rsi', label: 'RSI 14' },
  { key: 'macd', pane: 'macd', label: 'MACD' },
  { key: 'macd_signal', pane: 'macd', label: 'Signal' },
  { key: 'macd_hist', pane: 'macd', label: 'Hist' },
  { key: 'stoch_k', pane: 'stoch', label: '%K' },
  { key: 'stoch_d', pane: 'stoch', label: '%D' },
];

/** Milliseconds since the epoch to the whole seconds lightweight-charts uses. */
export function toChartTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  return Math.floor(ms / 1000);
}

/**
 * A decimal string ("123.45000000") or number to a finite number; null for
 * null, undefined, empty or unparsable input.
 */
export function parseDecimal(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/**
 * Checks a BAR from the server and returns the numbers the page works with,
 * or null when the bar cannot be drawn (missing time or prices).
 * The result: { time, openTime, open, high, low, close, volume, revision,
 * closed, tradeCount, indicators: {key: number|null} }.
 */
export function normalizeBar(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const time = toChartTime(raw.open_time);
  const open = parseDecimal(raw.open);
  const high = parseDecimal(raw.high);
  const low = parseDecimal(raw.low);
  const close = parseDecimal(raw.close);
  if (time === null || open === null || high === null || low === null
      || close === null)
    return null;
  const indicators = {};
  const src = raw.indicators && typeof raw.indicators === 'object'
    ? raw.indicators : null;
  for (const { key } of INDICATOR_LINES)
    indicators[key] = src ? parseDecimal(src[key]) : null;
  return {
    time,
    openTime: raw.open_time,
    open,
    high,
    low,
    close,
    volume: parseDecimal(raw.volume) ?? 0,
    revision: Number.isInteger(raw.revision) ? raw.revision : 0,
    closed: raw.closed === true,
    tradeCount: Number.isInteger(raw.trade_count) ? raw.trade_count : 0,
    indicators,
  };
}

/** A normalized bar to a candlestick point. */
export function toCandle(bar) {
  return {
    time: bar.time,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
  };
}

/** Colours for volume bars of rising and falling candles. */
export const VOLUME_COLORS = {
  up: 'rgba(38, 166, 154, 0.45)',
  down: 'rgba(239, 83, 80, 0.45)',
};

/** A normalized bar to a volume histogram point coloured by direction. */
export function toVolume(bar, colors = VOLUME_COLORS) {
  return {
    time: bar.time,
    value: bar.volume,
    color: bar.close >= bar.open ? colors.up : colors.down,
  };
}

/** Colours of MACD histogram bars: rising/falling above and below zero. */
export const HIST_COLORS = {
  upRising: 'rgba(38, 166, 154, 0.9)',
  upFalling: 'rgba(38, 166, 154, 0.45)',
  downFalling: 'rgba(239, 83, 80, 0.9)',
  downRising: 'rgba(239, 83, 80, 0.45)',
};

/**
 * One indicator point for a line or histogram series. A null value becomes
 * whitespace ({time} alone), which keeps the series aligned with the candles
 * and leaves a gap. For 'macd_hist' the point is coloured from its sign and
 * the previous bar's value.
 */
export function toIndicatorPoint(bar, key, previous = null) {
  const value = bar.indicators ? bar.indicators[key] : null;
  if (value === null || value === undefined) return { time: bar.time };
  if (key !== 'macd_hist') return { time: bar.time, value };
  const prev = previous && previous.indicators
    ? previous.indicators.macd_hist : null;
  const rising = prev === null || prev === undefined || value >= prev;
  let color;
  if (value >= 0) color = rising ? HIST_COLORS.upRising : HIST_COLORS.upFalling;
  else color = rising ? HIST_COLORS.downRising : HIST_COLORS.downFalling;
  return { time: bar.time, value, color };
}

/** Every series' data for a whole array of normalized bars (oldest first). */
export function seriesData(bars) {
  const out = { candles: [], volume: [], indicators: {} };
  for (const { key } of INDICATOR_LINES) out.indicators[key] = [];
  bars.forEach((bar, i) => {
    out.candles.push(toCandle(bar));
    out.volume.push(toVolume(bar));
    const prev = i > 0 ? bars[i - 1] : null;
    for (const { key } of INDICATOR_LINES)
      out.indicators[key].push(toIndicatorPoint(bar, key, prev));
  });
  return out;
}

/**
 * Whether `incoming` should replace `existing` (same open time). A lower
 * revision is stale; at the same revision a forming bar never replaces the
 * closed one.
 */
export function supersedes(incoming, existing) {
  if (incoming.revision < existing.revision) return false;
  if (incoming.revision === existing.revision && existing.closed
      && !incoming.closed)
    return false;
  return true;
}

/** Index of the bar with `time` in bars sorted by time, or -1. */
export function findBarIndex(bars, time) {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid].time === time) return mid;
    if (bars[mid].time < time) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Merges one normalized bar into `bars` (sorted by time, modified in place).
 * Returns what happened, so the caller can update the chart cheaply:
 *  - 'append':  a new latest bar (series.update)
 *  - 'replace': the bar at `index` changed (series.update, historical when
 *               it is not the last one)
 *  - 'insert':  a new bar before the latest (the series need setData)
 *  - 'ignore':  stale or invalid, nothing changed
 * With `onlyNew`, an existing bar is never replaced (used for history that
 * may be older than what the live stream already delivered).
 */
export function mergeBar(bars, bar, { onlyNew = false } = {}) {
  if (!bar) return { action: 'ignore', index: -1 };
  const n = bars.length;
  if (n === 0 || bar.time > bars[n - 1].time) {
    bars.push(bar);
    return { action: 'append', index: n };
  }
  const index = findBarIndex(bars, bar.time);
  if (index >= 0) {
    if (onlyNew || !supersedes(bar, bars[index]))
      return { action: 'ignore', index };
    bars[index] = bar;
    return { action: 'replace', index };
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid].time < bar.time) lo = mid + 1;
    else hi = mid;
  }
  bars.splice(lo, 0, bar);
  return { action: 'insert', index: lo };
}

/**
 * Merges many raw BARs; returns true when anything changed. Bars that cannot
 * be drawn are skipped.
 */
export function mergeBars(bars, rawBars, options = {}) {
  let changed = false;
  for (const raw of rawBars || []) {
    const r = mergeBar(bars, normalizeBar(raw), options);
    if (r.action !== 'ignore') changed = true;
  }
  return changed;
}

/**
 * Drops the oldest bars beyond `max`; returns how many were dropped.
 */
export function trimBars(bars, max) {
  const extra = bars.length - max;
  if (extra <= 0) return 0;
  bars.splice(0, extra);
  return extra;
}

/**
 * Whether a server message belongs to the current subscription (messages for
 * a previous symbol or timeframe can still arrive after a switch).
 */
export function isForSubscription(msg, subscription) {
  return !!msg && !!subscription && msg.symbol === subscription.symbol
    && msg.timeframe === subscription.timeframe;
}

/** Reconnect delays: doubling from `baseMs` up to `maxMs`, with jitter. */
export const BACKOFF = { baseMs: 500, factor: 2, maxMs: 30000, jitter: 0.2 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry).
 * `random` returns a number in [0, 1); the delay is spread by ±jitter around
 * the schedule value 500 ms, 1 s, 2 s, 4 s, ... capped at 30 s.
 */
export function backoffDelay(attempt, random = Math.random, opts = BACKOFF) {
  const a = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 0));
  const raw = opts.baseMs * Math.pow(opts.factor, Math.min(a, 30));
  const capped = Math.min(opts.maxMs, raw);
  const spread = 1 + opts.jitter * (2 * random() - 1);
  return Math.round(Math.min(opts.maxMs, capped * spread));
}

/**
 * Settings from the URL fragment: "#symbol=BTCUSDT&timeframe=5m&token=abc".
 * Unknown keys are ignored; an unknown timeframe is dropped.
 */
export function parseFragment(hash) {
  const out = {};
  const text = (hash || '').replace(/^#/, '');
  if (!text) return out;
  const params = new URLSearchParams(text);
  const token = params.get('token');
  if (token) out.token = token;
  const symbol = params.get('symbol');
  if (symbol && /^[A-Za-z0-9._\-^=]{1,32}$/.test(symbol))
    out.symbol = symbol.toUpperCase();
  const tf = params.get('timeframe');
  if (tf && TIMEFRAMES.includes(tf)) out.timeframe = tf;
  return out;
}

/** The fragment for a selection (the token is never written back). */
export function buildFragment({ symbol, timeframe }) {
  const params = new URLSearchParams();
  if (symbol) params.set('symbol', symbol);
  if (timeframe) params.set('timeframe', timeframe);
  return '#' + params.toString();
}

/**
 * The WebSocket URL on the page's own host: ws: for http:, wss: for https:,
 * with the token as ?token= when there is one.
 */
export function websocketUrl(location, token) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let url = `${scheme}//${location.host}/ws`;
  if (token) url += `?token=${encodeURIComponent(token)}`;
  return url;
}

/** Path and query of the chart history request. */
export function chartsPath(symbol, timeframe, limit = 500) {
  return `/api/v1/charts/${encodeURIComponent(symbol)}`
    + `?timeframe=${encodeURIComponent(timeframe)}&limit=${limit}`;
}

/** Request headers for the REST API (Bearer token when there is one). */
export function apiHeaders(token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/**
 * The symbols answer to a flat, sorted list of
 * {exchange, symbol, assetClass}.
 */
export function flattenSymbols(answer) {
  const out = [];
  const exchanges = answer && answer.exchanges;
  if (!exchanges || typeof exchanges !== 'object') return out;
  for (const exchange of Object.keys(exchanges).sort()) {
    const list = Array.isArray(exchanges[exchange]) ? exchanges[exchange] : [];
    for (const item of list) {
      if (!item || typeof item.symbol !== 'string') continue;
      out.push({
        exchange,
        symbol: item.symbol,
        assetClass: item.asset_class || '',
      });
    }
  }
  out.sort((a, b) => a.exchange.localeCompare(b.exchange)
    || a.symbol.localeCompare(b.symbol));
  return out;
}

/**
 * Decimal places that show a price of this size with at least four or five
 * significant digits: 43210.50, 2.1345, 0.085123, 0.00001234.
 */
export function priceDecimals(price) {
  const p = Math.abs(price);
  if (p >= 100 || p === 0 || !Number.isFinite(p)) return 2;
  if (p >= 1) return 4;
  if (p >= 0.01) return 6;
  return 8;
}

/** A price for the legend; an em dash for null. */
export function formatPrice(value, decimals) {
  if (value === null || value === undefined || !Number.isFinite(value))
    return '—';
  const d = decimals ?? priceDecimals(value);
  return value.toLocaleString('en-US', {
    minimumFractionDigits: d,
    maximumFractionDigits: d,
  });
}

/** A volume with K/M/B suffixes. */
export function formatVolume(value) {
  if (value === null || value === undefined || !Number.isFinite(value))
    return '—';
  const a = Math.abs(value);
  if (a >= 1e9) return (value / 1e9).toFixed(2) + 'B';
  if (a >= 1e6) return (value / 1e6).toFixed(2) + 'M';
  if (a >= 1e3) return (value / 1e3).toFixed(2) + 'K';
  return value.toFixed(a >= 100 ? 0 : a >= 1 ? 2 : 4);
}

/** Change of a bar from open to close: {abs, pct}. */
export function barChange(bar) {
  const abs = bar.close - bar.open;
  const pct = bar.open !== 0 ? (abs / bar.open) * 100 : 0;
  return { abs, pct };
}

/** UTC time of a chart time (seconds) for the legend: "2024-01-15 10:37". */
export function formatTime(seconds, timeframe) {
  const iso = new Date(seconds * 1000).toISOString();
  if (timeframe === '1d') return iso.slice(0, 10);
  return iso.slice(0, 10) + ' ' + iso.slice(11, 16);
}
