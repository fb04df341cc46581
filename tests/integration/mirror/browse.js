// tests/integration/mirror/browse.js: opens saved pages from file:// in Debian's headless
// Chromium (driven by puppeteer-core) with the network off, and counts the subresources that
// failed to load. usage: node browse.js CHROMIUM PAGE.html...
// Prints "file N: URL" for each failure from file:// and "net N: URL" for each that needed the
// network, then "failed F network N pages P".
const puppeteer = require('puppeteer-core');

(async () => {
  const [chromium, ...pages] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // no network: every http(s) request goes to a proxy that is not there
    args: ['--no-sandbox', '--disable-gpu', '--proxy-server=127.0.0.1:9',
           '--proxy-bypass-list=<-loopback>', '--allow-file-access-from-files'],
  });
  let failed = 0, network = 0;
  try {
    for (const file of pages) {
      const page = await browser.newPage();
      page.on('requestfailed', (req) => {
        const url = req.url();
        if (url.startsWith('file:')) {
          failed++;
          console.log(`file ${failed}: ${url} (${req.failure() && req.failure().errorText})`);
        } else {
          network++;
          console.log(`net ${network}: ${url}`);
        }
      });
      await page.goto('file://' + file, { waitUntil: 'load', timeout: 20000 });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`failed ${failed} network ${network} pages ${pages.length}`);
})().catch((e) => { console.error(e); process.exit(2); });
