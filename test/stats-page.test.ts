import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startFerry, tmpPath } from './helpers/ferry';
import { httpBackend } from './helpers/http';
import { fetchText } from './helpers/metrics';
import { freePort } from './helpers/net';

/** Debian's chromium (installed by .ci/run), or CHROMIUM_PATH: puppeteer-core downloads no browser. */
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && existsSync(p));
const browserTest = CHROMIUM === undefined ? test.skip : test;
if (CHROMIUM === undefined) console.log('stats-page.test: skipping the browser test: no chromium at /usr/bin/chromium (.ci/run installs Debian\'s chromium) and CHROMIUM_PATH is not set');

/** The page's state cell of a server, as an expression that runs in the page. */
const STATE = (server: string): string => `document.querySelector('tr[data-server="${server}"] td:nth-child(2)')`;

browserTest('the stats page loads with no console error, shows every server with its state, and MAINT within 2 s of ctl disable server', async () => {
  const puppeteer = (await import('puppeteer-core')).default;
  const apps = await Promise.all([httpBackend(), httpBackend(), httpBackend()]);
  const [web, stats] = [await freePort(), await freePort()];
  const servers = Object.fromEntries(apps.map((a, i) => [`a${i + 1}`, { address: `127.0.0.1:${a.port}` }]));
  const ferry = await startFerry({
    global: { groups: 1, threads: 1 },
    frontends: {
      web: { bind: [`127.0.0.1:${web}`], mode: 'http', backend: 'app' },
      stats: { bind: [`127.0.0.1:${stats}`], mode: 'http', backend: 'stats' },
    },
    backends: { app: { servers }, stats: { service: 'stats' } },
  });
  // Root (as in CI) runs chromium only without its sandbox.
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const problems: string[] = [];
  try {
    for (let i = 0; i < 6; i++) assert.is((await fetchText(web, `/x${i}`)).status, 200);
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${(err as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(`http://127.0.0.1:${stats}/`, { waitUntil: 'load' });
    // Strings run in the page: the tests are compiled without the DOM's types.
    await page.waitForFunction("document.querySelectorAll('tr[data-server]').length > 0", { timeout: 5_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; the page said: ${problems.join('; ') || 'nothing'}`);
    });
    const rows = await page.$$eval('tr[data-server]', (trs) => trs.map((tr) => [tr.getAttribute('data-server'), tr.querySelectorAll('td')[1].textContent]));
    assert.is(rows.length, 3);
    assert.equal(rows, [['app/a1', 'UP'], ['app/a2', 'UP'], ['app/a3', 'UP']]);
    assert.match(await page.$eval('#frontends', (t) => t.textContent ?? ''), /web/);

    const off = await runCli(['ctl', '-s', ferry.control, 'disable', 'server', 'app/a2']);
    assert.is(off.code, 0, off.stderr);
    // The page reads stats.json every second: the new state shows at the next refresh.
    await page.waitForFunction(`${STATE('app/a2')}.textContent === 'MAINT'`, { timeout: 2_000 });
    const colour = (server: string): Promise<string> => page.evaluate(`getComputedStyle(${STATE(server)}).backgroundColor`) as Promise<string>;
    assert.not.equal(await colour('app/a2'), await colour('app/a1'), 'MAINT is coloured apart from UP');
    await page.screenshot({ path: tmpPath('stats-page.png') });
    if (process.env.FERRY_KEEP_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.FERRY_KEEP_SCREENSHOT, fullPage: true });
    assert.equal(problems, []);
  } finally {
    await browser.close();
    await ferry.stop();
    await Promise.all(apps.map((a) => a.close()));
  }
});

test.run();
