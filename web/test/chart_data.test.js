// Unit tests of the chart page's data logic: node --test web/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  TIMEFRAMES, INDICATOR_LINES, toChartTime, parseDecimal, normalizeBar,
  toCandle, toVolume, VOLUME_COLORS, toIndicatorPoint, HIST_COLORS,
  seriesData, supersedes, mergeBar, mergeBars, trimBars, isForSubscription,
  backoffDelay, BACKOFF, parseFragment, buildFragment, websocketUrl,
  chartsPath, apiHeaders, flattenSymbols, formatPrice, formatVolume,
  formatTime, barChange, findBarIndex, priceDecimals,
} from '../src/chart_data.js';

// 2024-01-15T10:37:00Z
const T0 = 1705315020000;

function rawBar(overrides = {}) {
  const openTime = overrides.open_time ?? T0;
  return {
    exchange: 'binance',
    symbol: 'BTCUSDT',
    timeframe: '1m',
    open_time: openTime,
    close_time: openTime + 59999,
    open: '100.00000000',
    high: '110.50000000',
    low: '95.25000000',
    close: '105.00000000',
    volume: '12.50000000',
    quote_volume: '1300.00000000',
    taker_buy_volume: '6.00000000',
    taker_buy_quote_volume: '620.00000000',
    trade_count: 42,
    first_trade_id: 1,
    last_trade_id: 42,
    revision: 0,
    closed: false,
    indicators: {
      sma_20: 101.5, sma_50: null, sma_100: null, sma_200: null,
      ema_12: 102.25, ema_26: null, ema_50: null, rsi_14: 55.5,
      macd: 0.5, macd_signal: 0.25, macd_hist: 0.25, bb_upper: 110,
      bb_middle: 101.5, bb_lower: 93, stoch_k: 80, stoch_d: 70,
      atr_14: 3, adx_14: null, vwap: 103.125,
    },
    ...overrides,
  };
}

const bar = (o) => normalizeBar(rawBar(o));

test('times: ms to whole seconds, floors sub-second parts', () => {
  assert.equal(toChartTime(T0), 1705315020);
  assert.equal(toChartTime(T0 + 999), 1705315020);
  assert.equal(toChartTime(0), 0);
  assert.equal(toChartTime(null), null);
  assert.equal(toChartTime('1705315020000'), null);
  assert.equal(toChartTime(NaN), null);
});

test('decimal strings parse; junk and null give null', () => {
  assert.equal(parseDecimal('123.45000000'), 123.45);
  assert.equal(parseDecimal('-0.5'), -0.5);
  assert.equal(parseDecimal('1e-8'), 1e-8);
  assert.equal(parseDecimal(' 7 '), 7);
  assert.equal(parseDecimal(42.5), 42.5);
  assert.equal(parseDecimal(null), null);
  assert.equal(parseDecimal(undefined), null);
  assert.equal(parseDecimal(''), null);
  assert.equal(parseDecimal('abc'), null);
  assert.equal(parseDecimal('12abc'), null);
  assert.equal(parseDecimal('NaN'), null);
  assert.equal(parseDecimal('Infinity'), null);
  assert.equal(parseDecimal(Infinity), null);
  assert.equal(parseDecimal({}), null);
});

test('a BAR becomes candle, volume and indicator points', () => {
  const b = bar();
  assert.deepEqual(toCandle(b), {
    time: 1705315020, open: 100, high: 110.5, low: 95.25, close: 105,
  });
  assert.deepEqual(toVolume(b), {
    time: 1705315020, value: 12.5, color: VOLUME_COLORS.up,
  });
  const down = bar({ close: '99.00000000' });
  assert.equal(toVolume(down).color, VOLUME_COLORS.down);
  assert.deepEqual(toIndicatorPoint(b, 'sma_20'), {
    time: 1705315020, value: 101.5,
  });
  assert.deepEqual(toIndicatorPoint(b, 'vwap'), {
    time: 1705315020, value: 103.125,
  });
  assert.equal(b.revision, 0);
  assert.equal(b.closed, false);
  assert.equal(b.tradeCount, 42);
});

test('null indicators become whitespace points, keeping the time', () => {
  const b = bar();
  assert.deepEqual(toIndicatorPoint(b, 'sma_50'), { time: 1705315020 });
  const none = bar({ indicators: null });
  for (const { key } of INDICATOR_LINES)
    assert.deepEqual(toIndicatorPoint(none, key), { time: 1705315020 });
  const missing = bar({ indicators: undefined });
  assert.deepEqual(toIndicatorPoint(missing, 'rsi_14'), { time: 1705315020 });
  const bad = bar({ indicators: { rsi_14: 'oops' } });
  assert.deepEqual(toIndicatorPoint(bad, 'rsi_14'), { time: 1705315020 });
});

test('MACD histogram colour follows sign and direction', () => {
  const at = (i, v) => bar({
    open_time: T0 + i * 60000, indicators: { macd_hist: v },
  });
  assert.equal(toIndicatorPoint(at(1, 0.5), 'macd_hist', at(0, 0.2)).color,
    HIST_COLORS.upRising);
  assert.equal(toIndicatorPoint(at(1, 0.1), 'macd_hist', at(0, 0.2)).color,
    HIST_COLORS.upFalling);
  assert.equal(toIndicatorPoint(at(1, -0.5), 'macd_hist', at(0, -0.2)).color,
    HIST_COLORS.downFalling);
  assert.equal(toIndicatorPoint(at(1, -0.1), 'macd_hist', at(0, -0.2)).color,
    HIST_COLORS.downRising);
  assert.equal(toIndicatorPoint(at(1, 0.1), 'macd_hist', null).color,
    HIST_COLORS.upRising);
  assert.deepEqual(toIndicatorPoint(at(1, null), 'macd_hist', at(0, 1)),
    { time: T0 / 1000 + 60 });
});

test('bars without a time or a price are dropped', () => {
  assert.equal(normalizeBar(null), null);
  assert.equal(normalizeBar('x'), null);
  assert.equal(normalizeBar(rawBar({ open_time: undefined })), null);
  assert.equal(normalizeBar(rawBar({ close: null })), null);
  assert.equal(normalizeBar(rawBar({ high: 'x' })), null);
  // A missing volume is drawn as zero.
  assert.equal(normalizeBar(rawBar({ volume: null })).volume, 0);
});

test('seriesData maps every bar to every series, aligned', () => {
  const bars = [0, 1, 2].map((i) => bar({ open_time: T0 + i * 60000 }));
  const d = seriesData(bars);
  assert.equal(d.candles.length, 3);
  assert.equal(d.volume.length, 3);
  for (const { key } of INDICATOR_LINES) {
    assert.equal(d.indicators[key].length, 3, key);
    assert.deepEqual(d.indicators[key].map((p) => p.time),
      d.candles.map((c) => c.time), key);
  }
  assert.equal(d.candles[2].time, T0 / 1000 + 120);
});

test('merge: appends a newer bar, replaces the same bar', () => {
  const bars = [];
  assert.deepEqual(mergeBar(bars, bar()), { action: 'append', index: 0 });
  assert.deepEqual(mergeBar(bars, bar({ open_time: T0 + 60000 })),
    { action: 'append', index: 1 });
  const update = bar({ open_time: T0 + 60000, close: '107.00000000' });
  assert.deepEqual(mergeBar(bars, update), { action: 'replace', index: 1 });
  assert.equal(bars.length, 2);
  assert.equal(bars[1].close, 107);
});

test('merge: a revision of an older bar replaces it in place', () => {
  const bars = [0, 1, 2].map((i) => bar({
    open_time: T0 + i * 60000, closed: i < 2,
  }));
  const revised = bar({ open_time: T0, closed: true, revision: 1,
    close: '90.00000000' });
  assert.deepEqual(mergeBar(bars, revised), { action: 'replace', index: 0 });
  assert.equal(bars[0].close, 90);
  assert.equal(bars[0].revision, 1);
  assert.equal(bars.length, 3);
});

test('merge: stale revisions and forming-after-closed are ignored', () => {
  const bars = [bar({ closed: true, revision: 2, close: '101.00000000' })];
  assert.equal(mergeBar(bars, bar({ closed: true, revision: 1 })).action,
    'ignore');
  assert.equal(mergeBar(bars, bar({ closed: false, revision: 2 })).action,
    'ignore');
  assert.equal(bars[0].close, 101);
  assert.equal(mergeBar(bars, bar({ closed: true, revision: 2,
    close: '102.00000000' })).action, 'replace');
  assert.equal(bars[0].close, 102);
  assert.equal(supersedes(bar({ closed: true }), bar({ closed: false })),
    true);
});

test('merge: a missing older bar is inserted in order', () => {
  const bars = [0, 2, 3].map((i) => bar({ open_time: T0 + i * 60000 }));
  const r = mergeBar(bars, bar({ open_time: T0 + 60000 }));
  assert.deepEqual(r, { action: 'insert', index: 1 });
  assert.deepEqual(bars.map((b) => b.time - T0 / 1000), [0, 60, 120, 180]);
  const first = mergeBar(bars, bar({ open_time: T0 - 60000 }));
  assert.deepEqual(first, { action: 'insert', index: 0 });
  assert.equal(findBarIndex(bars, T0 / 1000 + 120), 3);
  assert.equal(findBarIndex(bars, T0 / 1000 + 30), -1);
});

test('merge onlyNew: history never overwrites what the stream sent', () => {
  const bars = [bar({ close: '120.00000000' })];
  const changed = mergeBars(bars, [
    rawBar({ open_time: T0 - 60000, closed: true }),
    rawBar({ close: '100.00000000' }),
  ], { onlyNew: true });
  assert.equal(changed, true);
  assert.equal(bars.length, 2);
  assert.equal(bars[1].close, 120);
  assert.equal(mergeBars(bars, [rawBar({ close: '1.00000000' })],
    { onlyNew: true }), false);
  assert.equal(mergeBars(bars, [{ junk: true }, null]), false);
});

test('trim keeps the newest bars', () => {
  const bars = [0, 1, 2, 3, 4].map((i) => bar({ open_time: T0 + i * 60000 }));
  assert.equal(trimBars(bars, 10), 0);
  assert.equal(trimBars(bars, 3), 2);
  assert.equal(bars.length, 3);
  assert.equal(bars[0].time, T0 / 1000 + 120);
});

test('messages of another subscription are not applied', () => {
  const sub = { symbol: 'BTCUSDT', timeframe: '1m' };
  assert.equal(isForSubscription({ symbol: 'BTCUSDT', timeframe: '1m' }, sub),
    true);
  assert.equal(isForSubscription({ symbol: 'ETHUSDT', timeframe: '1m' }, sub),
    false);
  assert.equal(isForSubscription({ symbol: 'BTCUSDT', timeframe: '5m' }, sub),
    false);
  assert.equal(isForSubscription(null, sub), false);
  assert.equal(isForSubscription({ symbol: 'BTCUSDT', timeframe: '1m' }, null),
    false);
});

test('back-off doubles from 500 ms to a 30 s cap', () => {
  const mid = () => 0.5; // no jitter
  const schedule = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffDelay(a, mid));
  assert.deepEqual(schedule,
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(backoffDelay(-3, mid), 500);
  assert.equal(backoffDelay(NaN, mid), 500);
});

test('back-off jitter stays within ±20% and under the cap', () => {
  assert.equal(backoffDelay(2, () => 0), 1600);
  assert.equal(backoffDelay(2, () => 0.999999), 2400);
  assert.equal(backoffDelay(10, () => 0.999999), BACKOFF.maxMs);
  for (let i = 0; i < 200; ++i) {
    const d = backoffDelay(i % 12);
    assert.ok(d >= 400 && d <= BACKOFF.maxMs, String(d));
  }
});

test('fragment: token, symbol and timeframe', () => {
  assert.deepEqual(parseFragment('#token=abc.def&symbol=ethusdt&timeframe=5m'),
    { token: 'abc.def', symbol: 'ETHUSDT', timeframe: '5m' });
  assert.deepEqual(parseFragment(''), {});
  assert.deepEqual(parseFragment('#'), {});
  assert.deepEqual(parseFragment('#timeframe=2m&symbol=<script>'), {});
  assert.deepEqual(parseFragment('#token=a%2Bb%3D'), { token: 'a+b=' });
  assert.equal(buildFragment({ symbol: 'AAPL', timeframe: '1h' }),
    '#symbol=AAPL&timeframe=1h');
});

test('URLs and headers carry the token', () => {
  const http = { protocol: 'http:', host: '127.0.0.1:8080' };
  const https = { protocol: 'https:', host: 'example.test' };
  assert.equal(websocketUrl(http, ''), 'ws://127.0.0.1:8080/ws');
  assert.equal(websocketUrl(https, 'a b&c'),
    'wss://example.test/ws?token=a%20b%26c');
  assert.equal(chartsPath('BTCUSDT', '15m'),
    '/api/v1/charts/BTCUSDT?timeframe=15m&limit=500');
  assert.equal(chartsPath('BRK.B', '1d', 100),
    '/api/v1/charts/BRK.B?timeframe=1d&limit=100');
  assert.deepEqual(apiHeaders(''), { Accept: 'application/json' });
  assert.deepEqual(apiHeaders('t0k'),
    { Accept: 'application/json', Authorization: 'Bearer t0k' });
});

test('symbols answer flattens by exchange, sorted', () => {
  const list = flattenSymbols({
    exchanges: {
      yahoo: [{ symbol: 'MSFT', asset_class: 'stock' },
        { symbol: 'AAPL', asset_class: 'stock' }],
      binance: [{ symbol: 'BTCUSDT', asset_class: 'crypto' }, { bad: 1 }],
    },
  });
  assert.deepEqual(list, [
    { exchange: 'binance', symbol: 'BTCUSDT', assetClass: 'crypto' },
    { exchange: 'yahoo', symbol: 'AAPL', assetClass: 'stock' },
    { exchange: 'yahoo', symbol: 'MSFT', assetClass: 'stock' },
  ]);
  assert.deepEqual(flattenSymbols(null), []);
  assert.deepEqual(flattenSymbols({ exchanges: { x: 'nope' } }), []);
});

test('legend formatting', () => {
  assert.equal(formatPrice(43210.5), '43,210.50');
  assert.equal(formatPrice(0.12345), '0.123450');
  assert.equal(formatPrice(2.13456), '2.1346');
  assert.equal(formatPrice(190.125), '190.13');
  assert.equal(formatPrice(0.0358123), '0.035812');
  assert.equal(priceDecimals(0), 2);
  assert.equal(priceDecimals(-0.5), 6);
  assert.equal(formatPrice(0.00001234), '0.00001234');
  assert.equal(formatPrice(null), '—');
  assert.equal(formatPrice(55.555, 1), '55.6');
  assert.equal(formatVolume(1234567), '1.23M');
  assert.equal(formatVolume(1500), '1.50K');
  assert.equal(formatVolume(12.5), '12.50');
  assert.equal(formatVolume(0.5), '0.5000');
  assert.equal(formatVolume(undefined), '—');
  assert.equal(formatTime(T0 / 1000, '1m'), '2024-01-15 10:37');
  assert.equal(formatTime(T0 / 1000, '1d'), '2024-01-15');
  const c = barChange(bar());
  assert.equal(c.abs, 5);
  assert.equal(c.pct, 5);
});

test('every timeframe has a selector entry', () => {
  assert.deepEqual(TIMEFRAMES, ['1m', '5m', '15m', '1h', '4h', '1d']);
});
