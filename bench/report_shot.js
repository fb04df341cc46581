// bench/report_shot.js: the README's picture of a `gather bench --report` page: its header and
// four charts (not the waterfall and tables below), 1280 px wide, from Debian's headless
// Chromium driven by puppeteer-core (as tests/integration/bench_report.js, network off).
// usage: NODE_PATH=build/node/node_modules node bench/report_shot.js CHROMIUM REPORT.html OUT.png
const puppeteer = require('puppeteer-core');

(async () => {
  const [chromium, report, out] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--proxy-server=127.0.0.1:9',
           '--proxy-bypass-list=<-loopback>'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto('file://' + report, { waitUntil: 'load', timeout: 20000 });
    // down to the bottom of the last line chart's box (its section, table included)
    const bottom = await page.evaluate(() => {
      const charts = [...document.querySelectorAll('svg.chart')];
      if (charts.length === 0) return 0;
      const last = charts[charts.length - 1];
      const box = (last.closest('section') || last.parentElement).getBoundingClientRect();
      return Math.ceil(box.bottom + window.scrollY + 8);
    });
    if (!bottom) throw new Error('no svg.chart in ' + report);
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1280, height: bottom } });
    console.log(`${out}: 1280x${bottom}`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(2); });
