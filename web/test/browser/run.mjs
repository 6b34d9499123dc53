// Drives the distribution's Chromium (never a browser download) through playwright-core for
// tests/web/test_web_browser.py and tools/bench_web.py. Reads one JSON object on stdin:
//   {chromium, base (the server's http://127.0.0.1:PORT), jobs: [...], query? (added to each page's URL)}
// and prints one JSON line per job. Jobs:
//   {kind: 'check', src, expected?: [md5 per frame]}  ?src=&check=1: status, the frames' MD5s, the
//       samples of every frame whose MD5 is not the expected one, and the timings
//   {kind: 'seek', src, targets: [n...]}  the seek bar set to each n: the frame then shown; then the
//       step buttons
//   {kind: 'open', src, screenshot?: path, playMs?: ms}  the page as a user opens it: time to the first
//       frame on the canvas, optionally playing a while, then a screenshot
//   {kind: 'layers', src, k}  the layer selector set to k: frame 0's MD5 before and after, its samples
//   {kind: 'speed', src}  'open', then the player's playback unpaced to the end: frames, ms
// Any job may add `query` (added to its page's URL, e.g. 'workers=2'), `waitPool: true` (seek, layers, speed:
// after frame 0 is shown, wait until every worker of the pool is ready or dropped) and `failAfter: k`
// (the file's URL answers HTTP 500 after its first k requests: the pool's helpers cannot read it).
// Results carry the page's pool (window.inrcodec.pool: workers, threads, ready, frames each, dropped).
import { chromium } from 'playwright-core';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const { chromium: executablePath, base, jobs, timeoutMs = 120000, query = '' } = JSON.parse(Buffer.concat(chunks).toString());

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
});
const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });

let jobQuery = '';
const url = (src, extra = '') => `${base}/?src=${encodeURIComponent(src)}${extra}${query ? `&${query}` : ''}${jobQuery ? `&${jobQuery}` : ''}`;
const pool = (page) => page.evaluate(() => window.inrcodec.pool);

async function poolSettled(page) {
  await page.waitForFunction(() => {
    const p = window.inrcodec.pool;
    return p.ready + p.dropped.length === p.workers;
  }, null, { timeout: timeoutMs });
}

async function settled(page) {
  // the check hook's end: 'done', or an error in #status
  await page.waitForFunction(() => {
    const s = document.getElementById('status');
    return s.classList.contains('error') || s.textContent === 'done';
  }, null, { timeout: timeoutMs });
}

async function check(page, job) {
  await page.goto(url(job.src, '&check=1'));
  await settled(page);
  const r = await page.evaluate(() => ({
    status: document.getElementById('status').textContent,
    error: document.getElementById('status').classList.contains('error'),
    frames: document.getElementById('frames').textContent.split('\n').filter(Boolean).map((l) => l.split(' ')),
    timing: window.inrcodec.timing,
    info: window.inrcodec.info,
    speed: document.getElementById('i-speed').textContent,
    pool: window.inrcodec.pool,
  }));
  r.samples = {};
  for (const [i, md5] of r.frames) {
    if (job.expected && job.expected[Number(i)] !== md5) {
      r.samples[i] = await page.evaluate((n) => window.inrcodec.samples(n), Number(i));
    }
  }
  return r;
}

const shownIs = (page, n) => page.waitForFunction((k) => window.inrcodec.shown?.n === k, n, { timeout: timeoutMs });

async function seek(page, job) {
  await page.goto(url(job.src));
  await shownIs(page, 0);
  if (job.waitPool) await poolSettled(page);
  const seen = [];
  for (const n of job.targets) {
    await page.evaluate((k) => {
      const s = document.getElementById('seek');
      s.value = String(k);
      s.dispatchEvent(new Event('input'));
    }, n);
    await shownIs(page, n);
    seen.push(await page.evaluate(() => ({ ...window.inrcodec.shown, pos: document.getElementById('pos').textContent })));
  }
  const last = job.targets[job.targets.length - 1];
  await page.click('#prev');
  await shownIs(page, last - 1);
  seen.push(await page.evaluate(() => ({ ...window.inrcodec.shown, pos: document.getElementById('pos').textContent })));
  await page.click('#next');
  await shownIs(page, last);
  seen.push(await page.evaluate(() => ({ ...window.inrcodec.shown, pos: document.getElementById('pos').textContent })));
  return { seen, pool: await pool(page) };
}

async function open(page, job) {
  await page.goto(url(job.src));
  await page.waitForFunction(() => window.inrcodec.timing.firstFrame !== undefined
    || document.getElementById('status').classList.contains('error'), null, { timeout: timeoutMs });
  if (job.playMs) {
    await page.click('#play');
    await page.waitForTimeout(job.playMs);
    if ((await page.textContent('#play')) !== '▶') await page.click('#play'); // pause, unless it reached the end
  }
  const r = await page.evaluate(() => ({
    timing: window.inrcodec.timing, shown: window.inrcodec.shown,
    status: document.getElementById('status').textContent,
    error: document.getElementById('status').classList.contains('error'),
    speed: document.getElementById('i-speed').textContent,
    first: document.getElementById('i-first').textContent,
    pool: window.inrcodec.pool,
  }));
  if (job.screenshot) await page.screenshot({ path: job.screenshot });
  return r;
}

async function speed(page, job) {
  // the player's own playback loop, unpaced: frames 1.. decoded, converted and drawn as fast as they come
  const first = await open(page, job);
  if (job.waitPool) await poolSettled(page);
  const r = await page.evaluate(async () => {
    const out = await window.inrcodec.playAll();
    return { ...out, shownLast: window.inrcodec.shown?.n, speed: document.getElementById('i-speed').textContent, timingEnd: window.inrcodec.timing };
  });
  if (r.shownLast !== first.shown.n + r.frames) r.failed = `played ${r.frames} frames but the last shown is ${r.shownLast}`;
  return { ...first, ...r, pool: await pool(page) };
}

async function layers(page, job) {
  // the layer selector set to job.k: frame 0 is redrawn from the first k layers; its samples, and those
  // of the frames job.more (other workers' frames with ?workers=N)
  await page.goto(url(job.src));
  await shownIs(page, 0);
  if (job.waitPool) await poolSettled(page);
  const before = await page.evaluate(() => ({ md5: window.inrcodec.shown.md5, options: [...document.getElementById('layers').options].map((o) => o.value) }));
  await page.selectOption('#layers', String(job.k));
  await page.waitForFunction((m) => window.inrcodec.shown?.md5 !== m, before.md5, { timeout: timeoutMs });
  const after = await page.evaluate(async (more) => ({
    shown: window.inrcodec.shown, samples: await window.inrcodec.samples(0),
    more: await Promise.all(more.map((n) => window.inrcodec.samples(n))),
  }), job.more ?? []);
  return { before, ...after, pool: await pool(page) };
}

const KINDS = { check, seek, open, speed, layers };
for (const job of jobs) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  jobQuery = job.query ?? '';
  if (job.failAfter !== undefined) {
    let asked = 0;
    // workers' fetches go through the page's routes in Chromium
    await page.route((u) => u.pathname === job.src, (route) => (asked++ < job.failAfter
      ? route.continue() : route.fulfill({ status: 500, body: 'refused (test)' })));
  }
  let out;
  try {
    out = { job: job.kind, src: job.src, ...(await KINDS[job.kind](page, job)) };
  } catch (e) {
    out = { job: job.kind, src: job.src, failed: String(e), status: await page.evaluate(() => document.getElementById('status')?.textContent).catch(() => null) };
  }
  out.pageErrors = errors;
  process.stdout.write(JSON.stringify(out) + '\n');
  await page.close();
}
await browser.close();
