// tests/integration/bench_report.js: opens the HTML page of `gather bench --report` in Debian's
// headless Chromium (driven by puppeteer-core) with the network off, and checks it against the
// sweep's JSON (`gather bench --json` stdout, {"bench": {...}}).
// usage: node bench_report.js CHROMIUM REPORT.html BENCH.json [SHOT.png]
// Prints "ok ..." or "FAIL ..." per check and exits 1 when any failed (2 when it could not run).
// The rounding rules are crawler/bench/report.h's: printf "%.Nf" (ties to even), N per metric.
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const DASH = '\u2014';

// The number at a dotted path of obj, or null.
function num(obj, dotted) {
  for (const k of dotted.split('.')) {
    if (obj === null || typeof obj !== 'object' || !(k in obj)) return null;
    obj = obj[k];
  }
  return typeof obj === 'number' ? obj : null;
}

// printf("%.*f", d, x): the exact binary value rounded to d decimals, ties to even. toFixed
// rounds the exact value too, but ties away from zero: a tie is a decimal of d + 1 digits ending
// in 5 that x is exactly (5^(d+1) divides its digits, so it is a binary fraction).
function fmt(x, d) {
  const away = x.toFixed(d), longer = x.toFixed(d + 1);
  if (!longer.endsWith('5') || Number(longer) !== x) return away;
  const digits = BigInt(longer.replace('-', '').replace('.', ''));
  if (digits % (5n ** BigInt(d + 1)) !== 0n) return away;
  let down = longer.slice(0, -1);
  if (down.endsWith('.')) down = down.slice(0, -1);
  return Number(down[down.length - 1]) % 2 === 0 ? down : away;
}

const scale = (p) => { const s = num(p, 'scale'); return s !== null && s > 0 ? s : 1; };
const conc = (p) => { const c = num(p, 'concurrency'); return c !== null && c >= 1 ? c : 1; };
const MODES = ['sync', 'threads', 'async'];

const METRICS = [
  { key: 'requests_per_s', unit: 'req/s', decimals: 1, get: (p) => num(p, 'requests_per_s') },
  { key: 'latency_ms.p95', unit: 'ms', decimals: 1, get: (p) => num(p, 'latency_ms.p95') },
  { key: 'cpu_s_scaled', unit: 's', decimals: 3,
    get: (p) => (num(p, 'cpu_s') === null ? null : num(p, 'cpu_s') * scale(p)) },
  { key: 'peak_rss_mib', unit: 'MiB', decimals: 1, get: (p) => num(p, 'peak_rss_mib') },
];

const COLUMNS = [
  ['requests', 'requests', 0], ['wall s', 'wall_s', 3], ['req/s', 'requests_per_s', 1],
  ['MB/s', 'mb_per_s', 2], ['p50 ms', 'latency_ms.p50', 1], ['p95 ms', 'latency_ms.p95', 1],
  ['p99 ms', 'latency_ms.p99', 1], ['CPU s', 'cpu_s', 3], ['peak RSS MiB', 'peak_rss_mib', 1],
  ['threads', 'threads', 0], ['in flight', 'max_inflight', 0], ['failures', 'failures', 0],
  ['speedup', 'speedup', 1], ['ctx switches', 'context_switches', 0],
];

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
}

// Everything the checks need, read from the page as the browser laid it out.
function readPage() {
  const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
  const cells = (tr) => [...tr.children].map((c) => c.textContent);
  const charts = [...document.querySelectorAll('svg.chart')].map((svg) => ({
    metric: svg.dataset.metric,
    box: box(svg),
    plot: svg.querySelector('rect.plot-area') ? box(svg.querySelector('rect.plot-area')) : null,
    markers: [...svg.querySelectorAll('.marker')].map((m) => ({
      mode: m.dataset.mode, c: m.dataset.c, value: m.dataset.value, box: box(m),
      title: m.querySelector('title') ? m.querySelector('title').textContent : null,
    })),
    reference: svg.querySelector('.reference text') ? svg.querySelector('.reference text').textContent : null,
  }));
  const tables = [...document.querySelectorAll('table.chart-data')].map((t) => ({
    metric: t.dataset.metric, rows: [...t.querySelectorAll('tbody tr')].map(cells),
  }));
  const points = document.querySelector('table.points');
  const wf = document.querySelector('.waterfall svg');
  const data = document.getElementById('bench-data');
  return {
    charts, tables,
    points: points ? { head: cells(points.querySelector('thead tr')),
                       rows: [...points.querySelectorAll('tbody tr')].map(cells) } : null,
    waterfall: wf ? { box: box(wf),
                      bars: [...wf.querySelectorAll(':scope > g[fill]:not([font-size]) > rect')]
                        .filter((r) => r.getBoundingClientRect().width > 0).length,
                      heading: wf.closest('div').previousElementSibling.textContent } : null,
    data: data ? data.textContent : null,
    dataType: data ? data.getAttribute('type') : null,
  };
}

(async () => {
  const [chromium, report, benchFile, shot] = process.argv.slice(2);
  if (!chromium || !report || !benchFile) {
    console.error('usage: node bench_report.js CHROMIUM REPORT.html BENCH.json [SHOT.png]');
    process.exit(2);
  }
  const bench = JSON.parse(fs.readFileSync(benchFile, 'utf8')).bench;
  const points = bench.points;
  let failures = 0;
  const ok = (msg) => console.log(`ok ${msg}`);
  const fail = (msg) => { failures++; console.log(`FAIL ${msg}`); };
  const check = (cond, msg) => (cond ? ok(msg) : fail(msg));

  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // no network: every http(s) request goes to a proxy that is not there
    args: ['--no-sandbox', '--disable-gpu', '--proxy-server=127.0.0.1:9',
           '--proxy-bypass-list=<-loopback>'],
  });
  let page;
  const events = [];
  try {
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn' || m.type() === 'warning')
        events.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => events.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => events.push(`request failed: ${r.url()} (${r.failure() && r.failure().errorText})`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) events.push(`request off the page: ${r.url()}`);
    });
    await page.goto('file://' + path.resolve(report), { waitUntil: 'load', timeout: 20000 });
    const got = await page.evaluate(readPage);

    // Charts: one per metric, visible, a marker per point with a value, where it belongs.
    check(got.charts.length === METRICS.length,
          `${got.charts.length} charts (${got.charts.map((c) => c.metric).join(', ')})`);
    for (const m of METRICS) {
      const chart = got.charts.find((c) => c.metric === m.key);
      if (!chart) { fail(`chart ${m.key}: missing`); continue; }
      const bad = [];
      if (!(chart.box.w > 0 && chart.box.h > 0)) bad.push('empty bounding box');
      if (!chart.plot || !(chart.plot.w > 0 && chart.plot.h > 0)) bad.push('no plot area');
      const valued = points.filter((p) => MODES.includes(p.mode) && m.get(p) !== null);
      for (const mode of MODES)
        if (valued.some((p) => p.mode === mode) && !chart.markers.some((k) => k.mode === mode))
          bad.push(`no ${mode} marker`);
      if (chart.markers.length !== valued.length)
        bad.push(`${chart.markers.length} markers for ${valued.length} points with a value`);
      for (const p of valued) {
        const c = String(conc(p)), v = fmt(m.get(p), m.decimals);
        const mk = chart.markers.filter((k) => k.mode === p.mode && k.c === c);
        if (mk.length !== 1) { bad.push(`${p.mode} -c ${c}: ${mk.length} markers`); continue; }
        const want = `${p.mode}, -c ${c}: ${v} ${m.unit}`;
        if (mk[0].value !== v || mk[0].title !== want)
          bad.push(`${p.mode} -c ${c}: marker ${mk[0].value} "${mk[0].title}", not "${want}"`);
      }
      for (const k of chart.markers) {
        const cx = k.box.x + k.box.w / 2, cy = k.box.y + k.box.h / 2, a = chart.plot;
        if (!(k.box.w > 0 && k.box.h > 0)) bad.push(`${k.mode} -c ${k.c}: invisible marker`);
        else if (a && !(cx >= a.x - 0.5 && cx <= a.x + a.w + 0.5 && cy >= a.y - 0.5 && cy <= a.y + a.h + 0.5))
          bad.push(`${k.mode} -c ${k.c}: marker at ${cx.toFixed(0)},${cy.toFixed(0)} outside the plot area`);
      }
      // Higher values sit higher, higher concurrency further right.
      const mk = chart.markers.map((k) => ({ v: Number(k.value), c: Number(k.c), x: k.box.x + k.box.w / 2, y: k.box.y + k.box.h / 2 }));
      for (const a of mk)
        for (const b of mk) {
          if (a.v > b.v && !(a.y < b.y + 0.01)) bad.push(`${a.v} drawn below ${b.v}`);
          if (a.c > b.c && !(a.x > b.x)) bad.push(`-c ${a.c} drawn left of -c ${b.c}`);
        }
      if (m.key === 'requests_per_s') {
        const sync = points.find((p) => p.mode === 'sync' && m.get(p) !== null);
        if (sync && !(chart.reference && chart.reference.includes(`${fmt(m.get(sync), m.decimals)} req/s`)))
          bad.push(`sync reference line labelled "${chart.reference}"`);
      }
      check(bad.length === 0, `chart ${m.key}: ${chart.markers.length} markers${bad.length ? ': ' + [...new Set(bad)].slice(0, 6).join('; ') : ''}`);

      // Its table: a row per point, the value as plotted.
      const table = got.tables.find((t) => t.metric === m.key);
      if (!table) { fail(`table ${m.key}: missing`); continue; }
      const tbad = [];
      if (table.rows.length !== points.length) tbad.push(`${table.rows.length} rows for ${points.length} points`);
      points.forEach((p, i) => {
        const row = table.rows[i] || [];
        const v = m.get(p) === null ? DASH : fmt(m.get(p), m.decimals);
        const want = [p.mode, String(conc(p)), v];
        if (want.some((w, k) => row[k] !== w)) tbad.push(`row ${i + 1}: ${JSON.stringify(row.slice(0, 3))}, not ${JSON.stringify(want)}`);
        if (p.runs === 0 && !(row[3] || '').includes('every run failed')) tbad.push(`row ${i + 1}: no "every run failed"`);
      });
      check(tbad.length === 0, `table ${m.key}: ${table.rows.length} rows${tbad.length ? ': ' + tbad.slice(0, 4).join('; ') : ''}`);
    }

    // The table of every point.
    if (!got.points) {
      fail('table of points: missing');
    } else {
      const pbad = [];
      const head = ['-c', 'mode', ...COLUMNS.map((c) => c[0]), 'note'];
      if (JSON.stringify(got.points.head) !== JSON.stringify(head)) pbad.push(`header ${JSON.stringify(got.points.head)}`);
      if (got.points.rows.length !== points.length) pbad.push(`${got.points.rows.length} rows for ${points.length} points`);
      points.forEach((p, i) => {
        const row = got.points.rows[i] || [];
        const want = [String(conc(p)), p.mode,
                      ...COLUMNS.map(([, key, d]) => (num(p, key) === null ? DASH : fmt(num(p, key), d)))];
        want.forEach((w, k) => { if (row[k] !== w) pbad.push(`row ${i + 1} ${head[k]}: "${row[k]}", not "${w}"`); });
        const note = row[head.length - 1] || '';
        if (p.reached === false && !note.includes(typeof p.limit === 'string' ? p.limit : 'did not reach'))
          pbad.push(`row ${i + 1}: note "${note}" lacks the limit`);
        if (p.runs === 0 && !note.includes('every run failed')) pbad.push(`row ${i + 1}: no "every run failed"`);
      });
      check(pbad.length === 0, `table of points: ${got.points.rows.length} rows${pbad.length ? ': ' + pbad.slice(0, 6).join('; ') : ''}`);
    }

    // The waterfall, when the sweep drew one.
    if (bench.waterfall_concurrency !== null && bench.waterfall_concurrency !== undefined) {
      const w = got.waterfall;
      check(w && w.box.w > 0 && w.box.h > 0 && w.bars > 0 && w.heading.includes(`-c ${bench.waterfall_concurrency}`),
            w ? `waterfall at -c ${bench.waterfall_concurrency}: ${w.bars} bars, heading "${w.heading}"` : 'waterfall: missing');
    } else {
      ok('no waterfall asked for');
    }

    // The JSON, as given.
    let embedded = null;
    try { embedded = JSON.parse(got.data); } catch (e) { /* reported below */ }
    check(got.dataType === 'application/json' && deepEqual(embedded, bench),
          `#bench-data ${got.data === null ? 'missing' : deepEqual(embedded, bench) ? 'equals BENCH.json' : 'differs from BENCH.json'}`);

    if (shot) {
      await page.screenshot({ path: shot, fullPage: true });
      ok(`screenshot ${shot}`);
    }
  } finally {
    await browser.close();
  }
  check(events.length === 0, `browser: ${events.length} errors, warnings or requests${events.length ? ': ' + events.slice(0, 5).join('; ') : ''}`);
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
