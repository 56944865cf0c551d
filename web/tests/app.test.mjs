// The web app in a real browser: Debian's chromium, headless, driven by playwright-core (no browser download).
// For each page: fill the inputs, check that what the page shows equals `scaleplan COMMAND --json` for the same
// options, check that a bad input shows the library's message next to its field, save screenshots (1280x800 and
// a 390-px phone) under build/web-screens/, and record the Train page's update time and a GPT-3/1024-GPU search
// time in build/web-screens/timings.json (docs/performance.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'web', 'dist');
const BIN = process.env.SP_BIN ? join(ROOT, process.env.SP_BIN) : join(ROOT, 'build', 'scaleplan');
const SHOTS = join(ROOT, 'build', 'web-screens');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

let server, browser, base;
const timings = {};

function cli(args) {
  const r = spawnSync(BIN, args, { cwd: ROOT, encoding: 'utf8' });
  return { rc: r.status, out: r.stdout, err: r.stderr };
}
const cliJson = (args) => { const r = cli([...args, '--json']); assert.equal(r.rc, 0, r.err); return JSON.parse(r.out); };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = createServer((req, res) => {
    const path = join(DIST, decodeURIComponent(new URL(req.url, 'http://x').pathname.replace(/\/$/, '/index.html')));
    if (!path.startsWith(DIST) || !existsSync(path)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] || 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  writeFileSync(join(SHOTS, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  await browser?.close();
  server?.close();
});

async function open(hash, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + 'index.html' + hash);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  page.errors = errors;
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, `${name}: the page is wider than the window`);
}

const cardText = (page, key) => page.textContent(`.card[data-key="${key}"] .v`);

test('train: the numbers shown are the CLI\'s for the same inputs; a bad TP shows the library\'s message', async () => {
  const page = await open('#train?model=llama3-70b&system=dgx-h100&gpus=512&tp=8&pp=4&global_batch=1024&seq_len=8192&tokens=15T');
  const want = cliJson(['train', '--model', 'llama3-70b', '--system', 'dgx-h100', '--gpus', '512', '--tp', '8', '--pp', '4',
    '--global-batch', '1024', '--seq-len', '8192', '--tokens', '15T']);
  const got = await page.evaluate(() => window.scaleplanCall('train', { model: 'llama3-70b', system: 'dgx-h100', gpus: 512, tp: 8, pp: 4,
    global_batch: 1024, seq_len: 8192, tokens: '15T' }));
  assert.deepEqual(got, want);
  const mfu = await cardText(page, 'mfu');
  assert.equal(mfu, (100 * want.mfu).toFixed(1) + ' %');
  await shot(page, 'train-1280');
  // keystroke: change the global batch and time the update
  const t = [];
  for (const gb of ['1536', '2048', '1024']) {
    await page.fill('#train-global_batch', gb);
    t.push(Number(await page.evaluate(() => document.body.dataset.lastMs)));
  }
  const gpt3 = await open('#train?model=gpt3-175b&system=dgx-a100-80g&gpus=1024&tp=8&pp=8&global_batch=1536');
  const u = [];
  for (const gb of ['1024', '2048', '1536', '3072', '1536']) {
    await gpt3.fill('#train-global_batch', gb);
    u.push(Number(await gpt3.evaluate(() => document.body.dataset.lastMs)));
  }
  timings.train_update_ms_gpt3_1024 = { median: u.sort((a, b) => a - b)[2], all: u };
  // bad input: TP 3 does not divide the heads -> the message next to the TP field, the CLI's words
  await page.fill('#train-tp', '3');
  const msg = await page.textContent('[data-role="error"]');
  const named = await page.textContent('.field.bad .msg'); // the field the message names (--gpus here)
  assert.equal(named, msg);
  const c = cli(['train', '--model', 'llama3-70b', '--system', 'dgx-h100', '--gpus', '512', '--tp', '3', '--pp', '4',
    '--global-batch', '1024', '--seq-len', '8192', '--tokens', '15T']);
  assert.equal(c.rc, 2);
  assert.ok(msg.length > 0 && c.err.includes(msg), `page: ${msg}\ncli: ${c.err}`);
  await shot(page, 'train-error');
  const phone = await open('#train?model=llama3-70b&system=dgx-h100&gpus=512&tp=8&pp=4&global_batch=1024', { width: 390, height: 844 });
  await shot(phone, 'train-390');
  assert.deepEqual([...page.errors, ...gpt3.errors, ...phone.errors], []);
});

test('search: the table is the CLI\'s plans; a GPT-3 / 1024-GPU search in the browser is timed', async () => {
  const page = await open('#search?model=gpt3-175b&system=dgx-a100-80g&gpus=1024&global_batch=1536&seq_len=2048&top=10');
  const want = cliJson(['search', '--model', 'gpt3-175b', '--system', 'dgx-a100-80g', '--gpus', '1024', '--global-batch', '1536',
    '--seq-len', '2048', '--top', '10']);
  const rows = await page.$$eval('#r-search tbody tr', (trs) => trs.length);
  assert.equal(rows, want.plans.length);
  const best = await cardText(page, 'best_mfu');
  assert.equal(best, (100 * want.plans[0].mfu).toFixed(1) + ' %');
  const ms = await page.evaluate(() => {
    const t = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      window.scaleplanCall('search', { model: 'gpt3-175b', system: 'dgx-a100-80g', gpus: 1024, global_batch: 1536 });
      t.push(performance.now() - t0);
    }
    return t.sort((a, b) => a - b);
  });
  timings.search_ms_gpt3_1024 = { median: ms[2], all: ms };
  await page.click('th[data-col="mfu"]');
  await shot(page, 'search-1280');
  const phone = await open('#search?model=llama3-8b&system=dgx-h100&gpus=64&global_batch=256&seq_len=4096&top=5', { width: 390, height: 844 });
  await shot(phone, 'search-390');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('serve: TTFT, time per token and the largest batch are the CLI\'s infer results', async () => {
  const page = await open('#serve?model=llama3-70b&system=dgx-h100&gpus=8&tp=8&prompt=2048&output=256');
  const want = cliJson(['infer', '--model', 'llama3-70b', '--system', 'dgx-h100', '--gpus', '8', '--tp', '8', '--prompt', '2048',
    '--output', '256', '--batch', '1']);
  assert.equal(await cardText(page, 'max_batch'), String(want.max_batch));
  const got = await page.evaluate(() => window.scaleplanCall('infer', { model: 'llama3-70b', system: 'dgx-h100', gpus: 8, tp: 8,
    prompt: 2048, output: 256, batch: 1 }));
  assert.deepEqual(got, want);
  await shot(page, 'serve-1280');
  await page.fill('#serve-prompt', '0');
  const msg = await page.textContent('.field[data-key="prompt"] .msg');
  assert.match(msg, /--prompt/);
  const phone = await open('#serve?model=llama3-8b&system=dgx-h100&gpus=1&tp=1', { width: 390, height: 844 });
  await shot(phone, 'serve-390');
});

test('limits: the paper\'s model and the full model side by side as the CLI computes them; a range without points shows the library\'s message', async () => {
  const page = await open('#limits?gpu=h100&duration=3mo');
  const opts = ['--gpu', 'h100', '--duration', '3mo'];
  const paper = cliJson(['limits', '--mode', 'epoch2024', ...opts]);
  const full = cliJson(['limits', '--mode', 'full', '--threads', '1', ...opts]); // one search thread, as in the browser
  // the library's objects, timings aside: the same in the browser as from the CLI
  const strip = (r) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'wall_time_s' ? undefined : v)));
  const got = await page.evaluate(() => [window.scaleplanCall('limits', { mode: 'epoch2024', gpu: 'h100', duration: '3mo' }),
    window.scaleplanCall('limits', { mode: 'full', gpu: 'h100', duration: '3mo' })]);
  assert.deepEqual(strip(got[0]), strip(paper));
  assert.deepEqual(strip(got[1]), strip(full));
  // the numbers shown are those of the CLI's --json, formatted
  const sci = (v) => Number(v).toExponential(2);
  const td = (k) => page.textContent(`td[data-key="${k}"]`);
  for (const [m, r] of [['epoch2024', paper], ['full', full]]) {
    const last = r.settings[0].points[r.settings[0].points.length - 1]; // the setting's points carry the binding
    assert.equal(await td(`${m}.max_utilization`), (100 * r.max_utilization).toFixed(1) + ' %');
    assert.equal(await td(`${m}.linear_regime_end_flop`), sci(r.linear_regime_end_flop));
    assert.equal(await td(`${m}.latency_wall_flop`), sci(r.latency_wall_flop));
    assert.equal(await td(`${m}.largest_feasible_flop`), sci(r.largest_feasible_flop));
    assert.equal(await td(`${m}.n_gpus`), sci(last.n_gpus));
    assert.equal(await td(`${m}.binding`), last.binding);
    assert.equal(await td(`${m}.sweep_end`), r.sweep_end);
  }
  assert.equal(await cardText(page, 'linear_regime_end_flop'), sci(paper.linear_regime_end_flop) + ' FLOP');
  assert.equal(await cardText(page, 'full_latency_wall_flop'), sci(full.latency_wall_flop) + ' FLOP');
  // the plot: one curve per model, the linear-regime ends and the walls marked
  assert.equal(await page.$$eval('#r-limits svg polyline', (l) => l.length), 2);
  const svg = await page.textContent('#r-limits svg');
  for (const label of ['paper: linear regime ends', 'paper: latency wall', 'full: linear regime ends', 'full: latency wall'])
    assert.ok(svg.includes(label), label);
  await shot(page, 'limits-1280');
  timings.limits_update_ms_h100 = Number(await page.evaluate(() => document.body.dataset.lastMs));
  // typing a value: the page says "computing…" while the keys come (300 ms apart at most here: 30 ms) and
  // recomputes once, after the last one, not on each of the 4 keystrokes; the result is the CLI's for the typed range
  const updates = () => page.evaluate(() => Number(document.body.dataset.updates));
  const n0 = await updates();
  await page.type('#limits-to', '1e26', { delay: 30 });
  assert.equal(await page.textContent('#status'), 'computing…');
  await page.waitForFunction(() => !document.body.dataset.busy, null, { timeout: 60000 });
  assert.equal(await updates(), n0 + 1);
  const upto = cliJson(['limits', '--mode', 'full', '--threads', '1', ...opts, '--to', '1e26']);
  assert.equal(await td('full.max_utilization'), (100 * upto.max_utilization).toFixed(1) + ' %');
  assert.equal(await td('full.largest_feasible_flop'), sci(upto.largest_feasible_flop));
  assert.equal(await td('full.sweep_end'), upto.sweep_end);
  // bad input: a range with no sweep point -> the library's line next to the --to field, as the CLI prints it
  await page.fill('#limits-to', '1e24');
  const msg = await page.textContent('[data-role="error"]');
  assert.equal(await page.textContent('.field[data-key="to"] .msg'), msg);
  const c = cli(['limits', '--mode', 'epoch2024', ...opts, '--to', '1e24']);
  assert.equal(c.rc, 2);
  assert.equal(c.out, '');
  assert.ok(msg.startsWith('--to') && c.err.includes(msg), `page: ${msg}\ncli: ${c.err}`);
  await shot(page, 'limits-error');
  const phone = await open('#limits?gpu=h100&moe=1', { width: 390, height: 844 });
  await shot(phone, 'limits-390');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('laws: compute-optimal N, D and loss as the CLI computes them; a bad budget shows the message', async () => {
  const page = await open('#laws?law=chinchilla&compute=1e25');
  const want = cliJson(['law', '--law', 'chinchilla', '--compute', '1e25']);
  const got = await page.evaluate(() => window.scaleplanCall('law', { law: 'chinchilla', compute: '1e25' }));
  assert.deepEqual(got, want);
  assert.equal(await cardText(page, 'loss'), want.loss.toFixed(4));
  await shot(page, 'laws-1280');
  await page.fill('#laws-compute', '-5');
  assert.match(await page.textContent('.field[data-key="compute"] .msg'), /--compute/);
  const phone = await open('#laws?law=chinchilla&compute=1e24', { width: 390, height: 844 });
  await shot(phone, 'laws-390');
});

test('state lives in the URL: a shared link reopens the same plan', async () => {
  const page = await open('#train?model=llama3-8b&system=dgx-h100&gpus=64&tp=2&pp=1&global_batch=512');
  await page.fill('#train-global_batch', '256');
  // the page's own location: page.url() follows replaceState through an asynchronous navigation event, which lags
  // behind the synchronous update under load (a flake seen on a 2-core clean-clone run)
  const url = await page.evaluate(() => location.href);
  assert.match(url, /global_batch=256/);
  const again = await open(url.slice(base.length - 0).replace(/^index\.html/, ''));
  assert.equal(await again.inputValue('#train-global_batch'), '256');
  assert.equal(await again.inputValue('#train-model'), 'llama3-8b');
});
