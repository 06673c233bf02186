#!/usr/bin/env node
// Browser test of the live chart page against a running platform node.
//
//   node tests/web/chart_page_test.mjs BASE_URL SCREENSHOT.png
//        [--symbol BTCUSDT] [--timeframe 1m] [--token TOKEN]
//        [--timeout-ms 20000] [--chromium /usr/bin/chromium]
//
// Opens BASE_URL/ in Debian's headless Chromium (playwright-core from
// web/node_modules; no browser download), waits until candles are drawn,
// records the last bar shown, waits until a live update changes it, checks
// the connection status on screen and saves a screenshot. Exits 0 on success,
// 1 on failure (a screenshot is still saved when the page opened), 2 on bad
// arguments.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

function usage(message) {
  console.error(`chart_page_test: ${message}\nusage: node tests/web/chart_page_test.mjs`
    + ' BASE_URL SCREENSHOT.png [--symbol S] [--timeframe TF] [--token T]'
    + ' [--timeout-ms N] [--chromium PATH]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    timeoutMs: 20000, chromium: '/usr/bin/chromium', symbol: '', timeframe: '',
    token: '',
  };
  const positional = [];
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--symbol') opts.symbol = value();
    else if (a === '--timeframe') opts.timeframe = value();
    else if (a === '--token') opts.token = value();
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (a === '--chromium') opts.chromium = value();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) usage('expected BASE_URL and SCREENSHOT path');
  [opts.baseUrl, opts.screenshot] = positional;
  if (!/^https?:\/\//.test(opts.baseUrl)) usage('BASE_URL must be http(s)://');
  if (!(opts.timeoutMs > 0)) usage('--timeout-ms must be positive');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${detail ? ` (${detail})` : ''}`);
  return ok;
}

const fragment = new URLSearchParams();
if (opts.token) fragment.set('token', opts.token);
if (opts.symbol) fragment.set('symbol', opts.symbol);
if (opts.timeframe) fragment.set('timeframe', opts.timeframe);
const url = new URL('/', opts.baseUrl).href
  + (fragment.toString() ? `#${fragment}` : '');

const profile = mkdtempSync(path.join(tmpdir(), 'csp-chart-test-'));
let context;
let page;
const pageErrors = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: opts.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    timeout: 30000,
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`  console: ${msg.text()}`);
  });
  // Only the platform itself may be contacted.
  const origin = new URL(opts.baseUrl).origin;
  const foreign = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.protocol.startsWith('http') && u.origin !== origin) foreign.push(u.href);
  });

  const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  check('page loads', response && response.ok(),
    response ? `HTTP ${response.status()}` : 'no response');

  // Candles: bars in the page state, and candle bodies or wicks on the main
  // pane's canvases (the largest ones): a column with several pixels of the
  // up or down colour. The last-price line is one pixel high, and the price
  // labels are on the axis canvases, so neither counts.
  const drawn = await page.waitForFunction(() => {
    const s = window.cspChart;
    if (!s || s.barCount === 0) return false;
    const colours = [[38, 166, 154], [239, 83, 80]];
    const canvases = [...document.querySelectorAll('#chart canvas')];
    const area = (c) => c.width * c.height;
    const largest = Math.max(0, ...canvases.map(area));
    for (const c of canvases) {
      if (area(c) !== largest || largest === 0) continue;
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      const perColumn = new Uint32Array(c.width);
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] < 200) continue;
        for (const rgb of colours) {
          if (Math.abs(px[i] - rgb[0]) < 6 && Math.abs(px[i + 1] - rgb[1]) < 6
              && Math.abs(px[i + 2] - rgb[2]) < 6) {
            if (++perColumn[(i / 4) % c.width] >= 6) return true;
            break;
          }
        }
      }
    }
    return false;
  }, null, { timeout: opts.timeoutMs, polling: 250 }).then(() => true, () => false);
  let status = await page.evaluate(() => window.cspChart);
  check('candles drawn', drawn, status ? `${status.barCount} bars of`
    + ` ${status.symbol} ${status.timeframe}` : 'no window.cspChart');

  const first = status && status.lastBar;
  const legendClose = await page.textContent('#legend-close');
  check('legend shows the last close', !!first && legendClose !== '—'
    && Number(legendClose.replace(/,/g, '')) > 0, `close ${legendClose}`);

  // A live update must change the last bar shown (close or time).
  let changed = false;
  if (first) {
    changed = await page.waitForFunction((before) => {
      const b = window.cspChart.lastBar;
      return !!b && (b.time !== before.time || b.close !== before.close);
    }, first, { timeout: opts.timeoutMs, polling: 200 }).then(() => true,
      () => false);
  }
  status = await page.evaluate(() => window.cspChart);
  const after = status && status.lastBar;
  check('live update changes the last bar', changed, first && after
    ? `time ${first.time}→${after.time}, close ${first.close}→${after.close},`
      + ` ${status.updates} updates` : 'no bars');
  // Let the chart paint the update before the screenshot.
  await page.waitForTimeout(300);

  const shown = await page.getAttribute('#status', 'data-state');
  check('status on screen is live', shown === 'live' && status.connected,
    await page.textContent('#status-text'));
  check('no uncaught page errors', pageErrors.length === 0,
    pageErrors.join('; '));
  check('no requests to other hosts', foreign.length === 0,
    foreign.slice(0, 3).join(', '));
} catch (err) {
  check('browser run', false, err.message.split('\n')[0]);
} finally {
  if (page) {
    try {
      await page.screenshot({ path: opts.screenshot, fullPage: false });
      console.log(`screenshot: ${opts.screenshot}`);
    } catch (err) {
      console.log(`screenshot failed: ${err.message.split('\n')[0]}`);
    }
  }
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length;
console.log(`chart page: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
