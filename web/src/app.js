// The live chart page: REST history, WebSocket updates, lightweight-charts.
// The data logic lives in chart_data.js; this file wires it to the DOM.
import {
  TIMEFRAMES, TIMEFRAME_SECONDS, INDICATOR_LINES, normalizeBar, toCandle,
  toVolume, toIndicatorPoint, seriesData, mergeBar, mergeBars, trimBars,
  findBarIndex, isForSubscription, backoffDelay, parseFragment,
  buildFragment, websocketUrl, chartsPath, apiHeaders, flattenSymbols,
  priceDecimals, formatPrice, formatVolume, formatTime, barChange,
} from './chart_data.js';

const LWC = window.LightweightCharts;

const HISTORY_LIMIT = 500;
const MAX_BARS = 5000;
const PING_INTERVAL_MS = 20000;
const SILENCE_LIMIT_MS = 45000;
const TOKEN_KEY = 'csp.token';
const SELECTION_KEY = 'csp.chart.selection';

/** Line colours and styles of every indicator series. */
const STYLE = {
  bb_upper: { color: 'rgba(96, 125, 255, 0.75)', legend: '#7d95ff',
    lineStyle: 2 },
  bb_middle: { color: 'rgba(96, 125, 255, 0.55)', legend: '#7d95ff',
    lineStyle: 1 },
  bb_lower: { color: 'rgba(96, 125, 255, 0.75)', legend: '#7d95ff',
    lineStyle: 2 },
  sma_20: { color: '#f5c542' },
  sma_50: { color: '#ff8a3d' },
  ema_12: { color: '#3dd6f5' },
  ema_26: { color: '#c084fc' },
  vwap: { color: '#f472b6', lineStyle: 3 },
  rsi_14: { color: '#a78bfa' },
  macd: { color: '#3b82f6' },
  macd_signal: { color: '#f59e0b' },
  macd_hist: { color: '#26a69a' },
  stoch_k: { color: '#22d3ee' },
  stoch_d: { color: '#f87171' },
};

const PANES = { main: 0, rsi: 1, macd: 2, stoch: 3 };

// -- state --------------------------------------------------------------------

const fragment = parseFragment(window.location.hash);
const token = loadToken(fragment);

const state = {
  symbols: [],
  symbol: fragment.symbol || savedSelection().symbol || '',
  timeframe: fragment.timeframe || savedSelection().timeframe || '1m',
  exchange: '',
  active: null,
  bars: [],
  generation: 0,
  ws: null,
  wsState: 'connecting',
  subscribed: null,
  attempt: 0,
  reconnectTimer: null,
  countdownTimer: null,
  pingTimer: null,
  lastMessageAt: 0,
  hadConnection: false,
  reconnects: 0,
  updates: 0,
  hovering: false,
  precision: null,
};

/** Read-only status for scripts and tests: a frozen copy on every read. */
Object.defineProperty(window, 'cspChart', {
  enumerable: true,
  get() {
    const last = state.bars.length ? state.bars[state.bars.length - 1] : null;
    return Object.freeze({
      connected: state.wsState === 'live',
      state: state.wsState,
      symbol: state.symbol,
      timeframe: state.timeframe,
      exchange: state.exchange,
      barCount: state.bars.length,
      lastBar: last ? Object.freeze({
        time: last.time, openTime: last.openTime, open: last.open,
        high: last.high, low: last.low, close: last.close,
        volume: last.volume, closed: last.closed, revision: last.revision,
      }) : null,
      updates: state.updates,
      reconnects: state.reconnects,
    });
  },
});

function loadToken(frag) {
  let value = '';
  try {
    if (frag.token) {
      window.localStorage.setItem(TOKEN_KEY, frag.token);
      value = frag.token;
    } else {
      value = window.localStorage.getItem(TOKEN_KEY) || '';
    }
  } catch (_) {
    value = frag.token || '';
  }
  if (frag.token) {
    // Keep the token out of the address bar, history and bookmarks.
    const rest = buildFragment({
      symbol: frag.symbol, timeframe: frag.timeframe,
    });
    window.history.replaceState(null, '', rest === '#'
      ? window.location.pathname + window.location.search : rest);
  }
  return value;
}

function savedSelection() {
  try {
    return JSON.parse(window.localStorage.getItem(SELECTION_KEY)) || {};
  } catch (_) {
    return {};
  }
}

function saveSelection() {
  const sel = { symbol: state.symbol, timeframe: state.timeframe };
  try {
    window.localStorage.setItem(SELECTION_KEY, JSON.stringify(sel));
  } catch (_) { /* storage may be disabled */ }
  window.history.replaceState(null, '', buildFragment(sel));
}

// -- DOM ----------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const ui = {
  symbol: $('symbol'),
  timeframes: $('timeframes'),
  status: $('status'),
  statusText: $('status-text'),
  lastUpdate: $('last-update'),
  banner: $('banner'),
  chart: $('chart'),
  empty: $('empty'),
  barCount: $('bar-count'),
  legendSymbol: $('legend-symbol'),
  legendMeta: $('legend-meta'),
  legendTime: $('legend-time'),
  legendOhlc: $('legend-ohlc'),
  open: $('legend-open'),
  high: $('legend-high'),
  low: $('legend-low'),
  close: $('legend-close'),
  change: $('legend-change'),
  volume: $('legend-volume'),
  overlays: $('legend-overlays'),
  paneLegends: { rsi: $('legend-rsi'), macd: $('legend-macd'),
    stoch: $('legend-stoch') },
};

function showBanner(text) {
  ui.banner.textContent = text;
  ui.banner.hidden = !text;
}

function setStatus(wsState, text) {
  state.wsState = wsState;
  ui.status.dataset.state = wsState;
  ui.statusText.textContent = text;
}

// -- chart --------------------------------------------------------------------

const chart = LWC.createChart(ui.chart, {
  autoSize: true,
  layout: {
    background: { type: LWC.ColorType.Solid, color: '#0d1117' },
    textColor: '#9aa4b1',
    fontSize: 11,
    fontFamily: getComputedStyle(document.body).fontFamily,
    panes: { separatorColor: '#232c37', separatorHoverColor: '#3b82f633',
      enableResize: true },
  },
  grid: {
    vertLines: { color: 'rgba(42, 52, 65, 0.45)' },
    horzLines: { color: 'rgba(42, 52, 65, 0.45)' },
  },
  crosshair: {
    mode: LWC.CrosshairMode.Normal,
    vertLine: { color: '#5b6775', labelBackgroundColor: '#2a3441' },
    horzLine: { color: '#5b6775', labelBackgroundColor: '#2a3441' },
  },
  rightPriceScale: { borderColor: '#232c37' },
  timeScale: {
    borderColor: '#232c37',
    timeVisible: true,
    secondsVisible: false,
    rightOffset: 6,
    barSpacing: 8,
  },
  localization: { locale: 'en-US' },
});

const series = {};
series.candles = chart.addSeries(LWC.CandlestickSeries, {
  upColor: '#26a69a', downColor: '#ef5350', borderVisible: false,
  wickUpColor: '#26a69a', wickDownColor: '#ef5350',
}, PANES.main);
series.candles.priceScale().applyOptions({
  scaleMargins: { top: 0.16, bottom: 0.22 },
});
series.volume = chart.addSeries(LWC.HistogramSeries, {
  priceScaleId: 'volume', priceFormat: { type: 'volume' },
  lastValueVisible: false, priceLineVisible: false,
}, PANES.main);
series.volume.priceScale().applyOptions({
  scaleMargins: { top: 0.82, bottom: 0 },
});

for (const { key, pane } of INDICATOR_LINES) {
  const style = STYLE[key];
  const common = {
    color: style.color,
    priceLineVisible: false,
    lastValueVisible: pane !== 'main',
    crosshairMarkerVisible: pane !== 'main',
  };
  if (key === 'macd_hist') {
    series[key] = chart.addSeries(LWC.HistogramSeries, common, PANES[pane]);
  } else {
    series[key] = chart.addSeries(LWC.LineSeries, {
      ...common,
      lineWidth: pane === 'main' && key.startsWith('bb_') ? 1 : 2,
      lineStyle: style.lineStyle ?? 0,
    }, PANES[pane]);
  }
}

// Guide lines of the oscillators.
const guide = { color: 'rgba(125, 135, 148, 0.5)', lineWidth: 1, lineStyle: 2,
  axisLabelVisible: false };
series.rsi_14.createPriceLine({ ...guide, price: 70 });
series.rsi_14.createPriceLine({ ...guide, price: 30 });
series.stoch_k.createPriceLine({ ...guide, price: 80 });
series.stoch_k.createPriceLine({ ...guide, price: 20 });
series.macd.createPriceLine({ ...guide, price: 0 });
for (const key of ['rsi_14', 'stoch_k', 'stoch_d']) {
  series[key].applyOptions({
    autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
  });
  series[key].priceScale().applyOptions({
    scaleMargins: { top: 0.08, bottom: 0.06 },
  });
}

const panes = chart.panes();
panes[PANES.main].setStretchFactor(3.2);
for (const name of ['rsi', 'macd', 'stoch'])
  panes[PANES[name]].setStretchFactor(1);

/** Places each oscillator legend at the top of its pane. */
function positionPaneLegends() {
  const wrapTop = ui.chart.getBoundingClientRect().top;
  for (const name of ['rsi', 'macd', 'stoch']) {
    const pane = chart.panes()[PANES[name]];
    const el = pane && pane.getHTMLElement();
    if (!el) continue;
    const top = el.getBoundingClientRect().top - wrapTop;
    ui.paneLegends[name].style.top = `${Math.round(top + 4)}px`;
  }
}
new ResizeObserver(positionPaneLegends).observe(ui.chart);
for (const pane of chart.panes()) {
  const el = pane.getHTMLElement();
  if (el) new ResizeObserver(positionPaneLegends).observe(el);
}

/** Price precision of the main pane follows the instrument's price size. */
function applyPrecision() {
  if (!state.bars.length) return;
  const precision = priceDecimals(state.bars[state.bars.length - 1].close);
  if (precision === state.precision) return;
  state.precision = precision;
  const priceFormat = { type: 'price', precision, minMove: 10 ** -precision };
  series.candles.applyOptions({ priceFormat });
  for (const { key, pane } of INDICATOR_LINES)
    if (pane === 'main' || pane === 'macd')
      series[key].applyOptions({ priceFormat });
}

/** Every series from `state.bars`, after a switch, history or an insert. */
function drawAll() {
  const data = seriesData(state.bars);
  series.candles.setData(data.candles);
  series.volume.setData(data.volume);
  for (const { key } of INDICATOR_LINES) series[key].setData(data.indicators[key]);
  applyPrecision();
}

/** One bar at `index` into every series (the latest, or a revision). */
function drawBar(index) {
  const bar = state.bars[index];
  const historical = index < state.bars.length - 1;
  const prev = index > 0 ? state.bars[index - 1] : null;
  series.candles.update(toCandle(bar), historical);
  series.volume.update(toVolume(bar), historical);
  for (const { key } of INDICATOR_LINES)
    series[key].update(toIndicatorPoint(bar, key, prev), historical);
  if (historical) {
    // The next histogram bar's colour depends on this one.
    const next = state.bars[index + 1];
    series.macd_hist.update(toIndicatorPoint(next, 'macd_hist', bar),
      index + 1 < state.bars.length - 1);
  }
}

function applyLive(raw) {
  const result = mergeBar(state.bars, normalizeBar(raw));
  if (result.action === 'ignore') return false;
  if (trimBars(state.bars, MAX_BARS) > 0 || result.action === 'insert') {
    drawAll();
  } else {
    drawBar(result.index);
    if (result.action === 'append') applyPrecision();
  }
  return true;
}

// -- legend -------------------------------------------------------------------

const overlayItems = {};
for (const { key, pane, label } of INDICATOR_LINES) {
  const item = document.createElement('span');
  item.className = 'legend-item';
  item.style.color = STYLE[key].legend || STYLE[key].color;
  item.innerHTML = '<i></i><span></span> <b></b>';
  item.querySelector('span').textContent = label;
  overlayItems[key] = item.querySelector('b');
  const parent = pane === 'main' ? ui.overlays : ui.paneLegends[pane];
  parent.appendChild(item);
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function renderLegend(bar) {
  setText(ui.legendSymbol, state.symbol || '—');
  setText(ui.legendMeta, [state.exchange, state.timeframe]
    .filter(Boolean).join(' · '));
  if (!bar) {
    for (const el of [ui.open, ui.high, ui.low, ui.close, ui.volume])
      setText(el, '—');
    setText(ui.change, '');
    setText(ui.legendTime, '');
    for (const key of Object.keys(overlayItems)) setText(overlayItems[key], '—');
    return;
  }
  const d = state.precision ?? priceDecimals(bar.close);
  setText(ui.legendTime, formatTime(bar.time, state.timeframe)
    + (bar.closed ? '' : ' · forming'));
  setText(ui.open, formatPrice(bar.open, d));
  setText(ui.high, formatPrice(bar.high, d));
  setText(ui.low, formatPrice(bar.low, d));
  setText(ui.close, formatPrice(bar.close, d));
  setText(ui.volume, formatVolume(bar.volume));
  const change = barChange(bar);
  const dir = change.abs >= 0 ? 'up' : 'down';
  ui.legendOhlc.className = `legend-row legend-ohlc ${dir}`;
  ui.change.className = `legend-change ${dir}`;
  setText(ui.change, `${change.abs >= 0 ? '+' : ''}${formatPrice(change.abs, d)}`
    + ` (${change.pct >= 0 ? '+' : ''}${change.pct.toFixed(2)}%)`);
  for (const { key, pane } of INDICATOR_LINES) {
    const v = bar.indicators[key];
    let text;
    if (pane === 'main' || pane === 'macd') text = formatPrice(v, d);
    else text = v === null ? '—' : v.toFixed(2);
    setText(overlayItems[key], text);
  }
}

function renderLatest() {
  const n = state.bars.length;
  ui.empty.hidden = n > 0;
  setText(ui.barCount, n ? `${n} bars` : '');
  if (!state.hovering) renderLegend(n ? state.bars[n - 1] : null);
}

chart.subscribeCrosshairMove((param) => {
  const idx = param && param.time !== undefined
    ? findBarIndex(state.bars, param.time) : -1;
  state.hovering = idx >= 0;
  renderLegend(idx >= 0 ? state.bars[idx]
    : state.bars[state.bars.length - 1] || null);
});

// -- selectors ----------------------------------------------------------------

for (const tf of TIMEFRAMES) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = tf;
  b.dataset.timeframe = tf;
  b.addEventListener('click', () => select(state.symbol, tf));
  ui.timeframes.appendChild(b);
}

function renderSelectors() {
  for (const b of ui.timeframes.children)
    b.setAttribute('aria-pressed', String(b.dataset.timeframe === state.timeframe));
  ui.symbol.replaceChildren();
  const groups = new Map();
  for (const s of state.symbols) {
    if (!groups.has(s.exchange)) {
      const g = document.createElement('optgroup');
      g.label = s.exchange;
      groups.set(s.exchange, g);
      ui.symbol.appendChild(g);
    }
    const o = document.createElement('option');
    o.value = s.symbol;
    o.textContent = s.symbol;
    o.title = s.assetClass;
    groups.get(s.exchange).appendChild(o);
  }
  if (state.symbol && !state.symbols.some((s) => s.symbol === state.symbol)) {
    const o = document.createElement('option');
    o.value = state.symbol;
    o.textContent = state.symbol;
    ui.symbol.appendChild(o);
  }
  ui.symbol.value = state.symbol;
}

ui.symbol.addEventListener('change', () => select(ui.symbol.value,
  state.timeframe));

/** Switches symbol and timeframe: clears, reloads history, resubscribes. */
function select(symbol, timeframe) {
  if (!symbol || (state.active && symbol === state.active.symbol
      && timeframe === state.active.timeframe))
    return;
  state.symbol = symbol;
  state.timeframe = timeframe;
  state.active = { symbol, timeframe };
  const known = state.symbols.find((s) => s.symbol === symbol);
  state.exchange = known ? known.exchange : '';
  state.generation += 1;
  state.bars = [];
  state.updates = 0;
  state.precision = null;
  state.hovering = false;
  drawAll();
  chart.timeScale().applyOptions({
    secondsVisible: false,
    timeVisible: TIMEFRAME_SECONDS[timeframe] < 86400,
  });
  renderSelectors();
  renderLatest();
  saveSelection();
  document.title = `${symbol} ${timeframe} · Crypto-Stock Platform`;
  loadHistory();
  resubscribe();
}

// -- REST ---------------------------------------------------------------------

async function getJson(path) {
  const res = await fetch(path, { headers: apiHeaders(token), cache: 'no-store' });
  if (!res.ok) {
    let detail = '';
    try {
      const body = await res.json();
      detail = body.message || body.error || '';
    } catch (_) { /* not JSON */ }
    const err = new Error(`${res.status} ${res.statusText}${detail ? ': ' + detail : ''}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

function authHint(status) {
  return status === 401 || status === 403
    ? ' — reads need a token: open the page as /#token=YOUR_TOKEN' : '';
}

async function loadSymbols(attempt = 0) {
  try {
    const answer = await getJson('/api/v1/symbols');
    state.symbols = flattenSymbols(answer);
    if (!state.symbol && state.symbols.length) state.symbol = state.symbols[0].symbol;
    const known = state.symbols.find((s) => s.symbol === state.symbol);
    if (known) state.exchange = known.exchange;
    renderSelectors();
    renderLatest();
    if (!state.symbols.length) showBanner('The platform serves no symbols yet.');
    return true;
  } catch (err) {
    showBanner(`Could not load the symbol list (${err.message})${authHint(err.status)}`);
    const delay = backoffDelay(attempt);
    setTimeout(() => loadSymbols(attempt + 1).then((ok) => {
      if (ok && state.symbol) select(state.symbol, state.timeframe);
    }), delay);
    return false;
  }
}

async function loadHistory() {
  const gen = state.generation;
  const { symbol, timeframe } = state;
  if (!symbol) return;
  try {
    const answer = await getJson(chartsPath(symbol, timeframe, HISTORY_LIMIT));
    if (gen !== state.generation) return;
    if (answer.exchange) state.exchange = answer.exchange;
    if (mergeBars(state.bars, answer.bars, { onlyNew: true })) {
      trimBars(state.bars, MAX_BARS);
      drawAll();
      chart.timeScale().scrollToRealTime();
    }
    renderLatest();
  } catch (err) {
    if (gen !== state.generation) return;
    showBanner(`Could not load ${symbol} ${timeframe} history (${err.message})`
      + authHint(err.status));
  }
}

// -- WebSocket ----------------------------------------------------------------

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(msg));
    return true;
  }
  return false;
}

function resubscribe() {
  if (!state.active) return;
  const next = { ...state.active };
  if (state.subscribed && (state.subscribed.symbol !== next.symbol
      || state.subscribed.timeframe !== next.timeframe))
    send({ op: 'unsubscribe', ...state.subscribed });
  if (send({ op: 'subscribe', ...next })) state.subscribed = next;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.countdownTimer);
  setStatus(state.hadConnection ? 'reconnecting' : 'connecting',
    state.hadConnection ? 'Reconnecting…' : 'Connecting…');
  let ws;
  try {
    ws = new WebSocket(websocketUrl(window.location, token));
  } catch (err) {
    scheduleReconnect();
    return;
  }
  state.ws = ws;
  ws.onopen = () => {
    if (state.ws !== ws) return;
    state.lastMessageAt = Date.now();
    state.subscribed = null;
    setStatus('live', 'Live');
    if (state.hadConnection) {
      state.reconnects += 1;
      loadHistory(); // fill what was missed
    }
    state.hadConnection = true;
    resubscribe();
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(heartbeat, PING_INTERVAL_MS);
  };
  ws.onmessage = (ev) => {
    if (state.ws !== ws) return;
    state.lastMessageAt = Date.now();
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch (_) {
      return;
    }
    handleMessage(msg);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.subscribed = null;
    clearInterval(state.pingTimer);
    scheduleReconnect();
  };
  ws.onerror = () => { /* onclose follows */ };
}

/** Pings the server; a connection silent for too long is dropped. */
function heartbeat() {
  if (!state.ws) return;
  if (Date.now() - state.lastMessageAt > SILENCE_LIMIT_MS) {
    const ws = state.ws;
    state.ws = null;
    state.subscribed = null;
    clearInterval(state.pingTimer);
    ws.close();
    scheduleReconnect();
    return;
  }
  send({ op: 'ping' });
}

function scheduleReconnect() {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.countdownTimer);
  const delay = backoffDelay(state.attempt);
  state.attempt += 1;
  const due = Date.now() + delay;
  const tick = () => {
    const s = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    setStatus(navigator.onLine === false ? 'offline' : 'reconnecting',
      `${navigator.onLine === false ? 'Offline' : 'Disconnected'}`
      + ` · retry in ${s}s`);
  };
  tick();
  state.countdownTimer = setInterval(tick, 1000);
  state.reconnectTimer = setTimeout(connect, delay);
}

function handleMessage(msg) {
  switch (msg.type) {
    case 'subscribed':
      state.attempt = 0;
      showBanner('');
      break;
    case 'snapshot':
      if (!isForSubscription(msg, state)) return;
      state.attempt = 0;
      if (msg.exchange) state.exchange = msg.exchange;
      if (mergeBars(state.bars, msg.bars)) {
        trimBars(state.bars, MAX_BARS);
        drawAll();
      }
      markUpdate();
      break;
    case 'bar':
      if (!isForSubscription(msg, state)) return;
      if (msg.exchange) state.exchange = msg.exchange;
      if (applyLive(msg.bar)) {
        state.updates += 1;
        markUpdate();
      }
      break;
    case 'error':
      showBanner(`Server: ${msg.message || msg.code || 'error'}`
        + authHint(/unauth|forbidden|token/i.test(String(msg.code)) ? 401 : 0));
      break;
    case 'pong':
    default:
      break;
  }
}

function markUpdate() {
  const now = new Date();
  setText(ui.lastUpdate, `updated ${now.toISOString().slice(11, 19)} UTC`);
  renderLatest();
}

window.addEventListener('online', () => {
  if (!state.ws) connect();
});
window.addEventListener('offline', () => {
  if (!state.ws) setStatus('offline', 'Offline');
});
window.addEventListener('hashchange', () => {
  const f = parseFragment(window.location.hash);
  if (f.token && f.token !== token) {
    // A new token: store it, drop it from the URL and start afresh.
    loadToken(f);
    window.location.reload();
    return;
  }
  if (f.symbol || f.timeframe)
    select(f.symbol || state.symbol, f.timeframe || state.timeframe);
});

// -- start --------------------------------------------------------------------

renderSelectors();
renderLatest();
positionPaneLegends();
connect();
loadSymbols().then(() => {
  if (state.symbol) select(state.symbol, state.timeframe);
});
