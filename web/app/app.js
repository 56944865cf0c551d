/* scaleplan web app. Every number on the page comes from the C library (compiled to WebAssembly, scaleplan.js)
 * through one call, spw_call(command, request JSON) -> result JSON: the same object `scaleplan COMMAND --json`
 * prints for the same options. This file only builds requests from the form, draws the results (SVG) and keeps
 * the state in the address (#page?key=value&...), so a plan can be shared as a link. No model code here. */
'use strict';

let SP = null; // the WebAssembly module

function call(cmd, req) {
  const p = SP.ccall('spw_call', 'number', ['string', 'string'], [cmd, JSON.stringify(req)]);
  const text = SP.UTF8ToString(p);
  SP.ccall('spw_free', null, ['number'], [p]);
  return JSON.parse(text);
}

/* presets straight from the packed data folder (/data/KIND/NAME.json) */
function presets(kind) {
  try {
    return SP.FS.readdir('/data/' + kind).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch (e) { return []; }
}

/* ---------- formatting ---------- */
const SI = [[1e24, 'Y'], [1e21, 'Z'], [1e18, 'E'], [1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
function si(v, unit, digits = 3) {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  const a = Math.abs(v);
  for (const [f, p] of SI) if (a >= f) return (v / f).toPrecision(digits) + ' ' + p + (unit || '');
  return Number(v.toPrecision(digits)) + (unit ? ' ' + unit : '');
}
function secs(s) {
  if (s === null || s === undefined || !isFinite(s)) return '–';
  if (s < 1e-3) return (s * 1e6).toPrecision(3) + ' µs';
  if (s < 1) return (s * 1e3).toPrecision(3) + ' ms';
  if (s < 120) return s.toPrecision(3) + ' s';
  if (s < 7200) return (s / 60).toPrecision(3) + ' min';
  if (s < 172800) return (s / 3600).toPrecision(3) + ' h';
  return (s / 86400).toPrecision(3) + ' days';
}
const gib = (b) => (b / 2 ** 30).toFixed(1) + ' GiB';
const pct = (x) => (100 * x).toFixed(1) + ' %';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const card = (k, v, id) => `<div class="card"${id ? ` data-key="${id}"` : ''}><div class="v">${v}</div><div class="k">${k}</div></div>`;

/* ---------- SVG charts ---------- */
const COLORS = ['#3b6fd8', '#e07b39', '#4aa564', '#c4424b', '#8d62c9', '#8a6d3b', '#d56fb3', '#7f8c8d', '#b8b23a', '#2bb3c0', '#555'];

function hbars(parts, fmt) {
  const rows = Object.entries(parts).filter(([, v]) => v > 0);
  if (!rows.length) return '';
  const max = Math.max(...rows.map(([, v]) => v));
  const W = 560, L = 130, H = 20 * rows.length + 10;
  let s = `<svg viewBox="0 0 ${W} ${H}" width="${W}" role="img">`;
  rows.forEach(([k, v], i) => {
    const w = ((W - L - 90) * v) / max;
    s += `<text x="${L - 6}" y="${20 * i + 18}" text-anchor="end">${esc(k.replace(/_/g, ' '))}</text>` +
      `<rect x="${L}" y="${20 * i + 6}" width="${w.toFixed(1)}" height="14" fill="${COLORS[i % COLORS.length]}"/>` +
      `<text x="${L + w + 5}" y="${20 * i + 18}">${fmt(v)}</text>`;
  });
  return s + '</svg>';
}

function stackbar(parts, capacity) {
  const rows = Object.entries(parts).filter(([, v]) => v > 0);
  const total = rows.reduce((a, [, v]) => a + v, 0);
  const scale = Math.max(total, capacity || 0) || 1, W = 560, X = 4, BW = W - 8;
  let s = `<svg viewBox="0 0 ${W} ${46 + 16 * Math.ceil(rows.length / 3)}" width="${W}" role="img">`, x = X;
  rows.forEach(([k, v], i) => {
    const w = (BW * v) / scale;
    s += `<rect x="${x.toFixed(1)}" y="4" width="${w.toFixed(1)}" height="22" fill="${COLORS[i % COLORS.length]}"><title>${esc(k)} ${gib(v)}</title></rect>`;
    x += w;
  });
  if (capacity) {
    const cx = X + (BW * capacity) / scale;
    s += `<line x1="${cx}" x2="${cx}" y1="0" y2="30" stroke="#000" stroke-dasharray="3 2"/>` +
      `<text x="${Math.min(cx, W - 120)}" y="40">capacity ${gib(capacity)}</text>`;
  }
  rows.forEach(([k, v], i) => {
    const lx = X + 185 * (i % 3), ly = 56 + 16 * Math.floor(i / 3);
    s += `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 14}" y="${ly}">${esc(k.replace(/_/g, ' '))} ${gib(v)}</text>`;
  });
  return s + '</svg>';
}

/* line chart; series = [{name, pts: [[x, y]...]}]; log scales optional; marks = [{x, label}] vertical lines */
function lines(series, o) {
  const W = o.W || 600, H = 300, L = 62, R = 16, T = 12, B = 40;
  const all = series.flatMap((s) => s.pts).filter(([x, y]) => isFinite(x) && isFinite(y) && (!o.logx || x > 0) && (!o.logy || y > 0));
  if (!all.length) return '<p class="muted">nothing to plot</p>';
  const tx = (v) => (o.logx ? Math.log10(v) : v), ty = (v) => (o.logy ? Math.log10(v) : v);
  let [x0, x1] = [Math.min(...all.map((p) => tx(p[0]))), Math.max(...all.map((p) => tx(p[0])))];
  let [y0, y1] = [Math.min(...all.map((p) => ty(p[1]))), Math.max(...all.map((p) => ty(p[1])))];
  if (o.y0 !== undefined) y0 = Math.min(y0, o.y0);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const px = (v) => L + ((tx(v) - x0) / (x1 - x0)) * (W - L - R), py = (v) => H - B - ((ty(v) - y0) / (y1 - y0)) * (H - T - B);
  let s = `<svg viewBox="0 0 ${W} ${H}" width="${W}" role="img"><rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#ccd"/>`;
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4, yv = y0 + ((y1 - y0) * i) / 4;
    const xl = o.logx ? '1e' + xv.toFixed(1) : si(xv), yl = o.logy ? '1e' + yv.toFixed(1) : Number(yv.toPrecision(3));
    const X = L + ((W - L - R) * i) / 4, Y = H - B - ((H - T - B) * i) / 4;
    if (!o.decades) s += `<text x="${X}" y="${H - B + 14}" text-anchor="middle">${xl}</text>`;
    s += `<text x="${L - 5}" y="${Y + 4}" text-anchor="end">${yl}</text>`;
  }
  if (o.decades) { // log x: ticks at whole powers of ten, at most ~W/70 of them
    const step = Math.max(1, Math.ceil((Math.floor(x1) - Math.ceil(x0) + 1) / Math.max(2, Math.floor((W - L - R) / 70))));
    for (let e = Math.ceil(x0); e <= x1; e += step) {
      const X = L + ((e - x0) / (x1 - x0)) * (W - L - R);
      s += `<line x1="${X}" x2="${X}" y1="${H - B}" y2="${H - B + 4}" stroke="#889"/><text x="${X}" y="${H - B + 15}" text-anchor="middle">1e${e}</text>`;
    }
  }
  s += `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xlabel)}</text>` +
    `<text x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(o.ylabel)}</text>`;
  (o.marks || []).forEach((m, j) => {
    if (!(m.x > 0) || tx(m.x) < x0 || tx(m.x) > x1) return;
    const c = m.color || '#c62828', X = px(m.x), right = X > W - R - 150;
    s += `<line x1="${X}" x2="${X}" y1="${T}" y2="${H - B}" stroke="${c}"${m.solid ? '' : ' stroke-dasharray="4 3"'}/>` +
      `<text x="${right ? X - 3 : X + 3}" y="${T + 12 + 13 * j}" fill="${c}"${right ? ' text-anchor="end"' : ''} class="halo">${esc(m.label)}</text>`;
  });
  series.forEach((sr, i) => {
    const pts = sr.pts.filter(([x, y]) => isFinite(x) && isFinite(y) && (!o.logx || x > 0) && (!o.logy || y > 0));
    if (!pts.length) return;
    s += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts.map(([x, y]) => px(x).toFixed(1) + ',' + py(y).toFixed(1)).join(' ')}"/>`;
    const ly = o.legend === 'bottom' ? H - B - 8 - 14 * (series.length - 1 - i) : T + 16 + 14 * i;
    s += `<text x="${L + 8}" y="${ly}" fill="${COLORS[i % COLORS.length]}" class="halo">${esc(sr.name)}</text>`;
  });
  return s + '</svg>';
}

/* ---------- forms ---------- */
/* field: [key, label, kind, default, options]; kind: text | num | select | check | area */
const MODEL = (d) => ['model', 'model', 'select:models', d];
const SYSTEM = (d) => ['system', 'system', 'select:systems', d];
const PAGES = {
  train: {
    fields: [MODEL('gpt3-175b'), ['config', 'or paste a Hugging Face config.json', 'area', ''], SYSTEM('dgx-a100-80g'),
      ['gpus', 'GPUs', 'num', '1024'], ['tp', 'tensor parallel', 'num', '8'], ['pp', 'pipeline parallel', 'num', '8'],
      ['cp', 'context parallel', 'num', ''], ['ep', 'expert parallel', 'num', ''], ['vpp', 'virtual stages (interleaving)', 'num', ''],
      ['micro_batch', 'micro-batch (sequences)', 'num', ''], ['global_batch', 'global batch (sequences)', 'num', '1536'],
      ['seq_len', 'sequence length', 'num', ''], ['recompute', 'activation recompute', 'select', '', ['', 'none', 'selective', 'full']],
      ['sp', 'sequence parallelism', 'check', ''], ['zero', 'ZeRO stage', 'select', '', ['', '0', '1', '2', '3']],
      ['dtype', 'precision', 'select', '', ['', 'bf16', 'fp16', 'fp8', 'mxfp8', 'nvfp4']], ['tokens', 'training tokens (e.g. 300B, 15T)', 'text', '300B']],
    run: runTrain,
  },
  search: {
    fields: [MODEL('llama3-70b'), SYSTEM('dgx-h100'), ['gpus', 'GPUs', 'num', '512'], ['global_batch', 'global batch (sequences)', 'num', '1024'],
      ['seq_len', 'sequence length', 'num', '8192'], ['top', 'plans to show', 'num', '20']],
    run: runSearch,
  },
  serve: {
    fields: [MODEL('llama3-70b'), SYSTEM('dgx-h100'), ['gpus', 'GPUs', 'num', '8'], ['tp', 'tensor parallel', 'num', '8'],
      ['prompt', 'prompt tokens', 'num', '2048'], ['output', 'output tokens', 'num', '256'],
      ['weights', 'weights precision', 'select', '', ['', 'bf16', 'fp8', 'int8', 'int4']]],
    run: runServe,
  },
  limits: {
    fields: [['gpu', 'GPU (the paper\'s, and its DGX system in full mode)', 'select', 'h100', ['h100', 'a100', 'v100']],
      ['moe', 'MoE (sparsity grows with width)', 'check', ''], ['duration', 'training duration (e.g. 3mo, 90d)', 'text', '3mo'],
      ['batch_rule', 'critical batch rule', 'select', '', ['', 'epoch', 'kaplan', 'deepseek', 'fixed:4Mi']],
      ['latency_scale', 'latency × (0.1: the paper\'s low latency)', 'text', ''],
      ['bandwidth_scale', 'network bandwidth × (or inf)', 'text', ''], ['flat_network', 'one flat NVLink-bandwidth network', 'check', ''],
      ['to', 'largest training compute to sweep (FLOP)', 'text', '']],
    run: runLimits,
    debounceMs: 300, // a full-mode update is 1-7 s of plan searches: recompute once typing pauses (schedule below)
  },
  laws: {
    fields: [['law', 'scaling law', 'select', 'chinchilla', ['chinchilla', 'epoch', 'kaplan']], ['compute', 'compute budget (FLOP)', 'text', '1e25']],
    run: runLaws,
  },
};

function fieldHtml(page, [key, label, kind, dflt, opts]) {
  const id = `${page}-${key}`;
  let input;
  if (kind.startsWith('select')) {
    const list = kind.includes(':') ? presets(kind.split(':')[1]) : opts;
    input = `<select id="${id}" name="${key}">${list.map((v) => `<option value="${esc(v)}"${v === dflt ? ' selected' : ''}>${v === '' ? '(default)' : esc(v)}</option>`).join('')}</select>`;
  } else if (kind === 'check') input = `<input type="checkbox" id="${id}" name="${key}"${dflt ? ' checked' : ''}>`;
  else if (kind === 'area') input = `<textarea id="${id}" name="${key}" placeholder="{ &quot;model_type&quot;: … }">${esc(dflt)}</textarea>`;
  else input = `<input id="${id}" name="${key}" value="${esc(dflt)}" ${kind === 'num' ? 'inputmode="numeric"' : ''} autocomplete="off">`;
  return `<div class="field" data-key="${key}"><label for="${id}">${esc(label)}</label>${input}<div class="msg"></div></div>`;
}

function readForm(page) {
  const req = {};
  for (const [key, , kind] of PAGES[page].fields) {
    const el = document.getElementById(`${page}-${key}`);
    if (kind === 'check') { if (el.checked) req[key] = true; continue; }
    const v = el.value.trim();
    if (v === '') continue;
    req[key] = kind === 'num' && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  }
  if (req.config) { // a pasted config.json replaces the preset
    try { req.model = JSON.parse(req.config); } catch (e) { return { error: `--config: not valid JSON (${e.message})`, field: 'config' }; }
  }
  delete req.config;
  return req;
}

/* the library names the option in its message ("--global-batch: ..."): show it next to that field */
function showError(page, msg) {
  const m = /--([a-z0-9-]+)/.exec(msg);
  const key = m ? m[1].replace(/-/g, '_') : null;
  const field = document.querySelector(`#f-${page} .field[data-key="${key}"]`) ||
    (key === 'model' ? document.querySelector(`#f-${page} .field[data-key="config"]`) : null);
  if (field) { field.classList.add('bad'); field.querySelector('.msg').textContent = msg; }
  document.getElementById(`r-${page}`).innerHTML = `<div class="error" data-role="error">${esc(msg)}</div>`;
}

function clearErrors(page) {
  document.querySelectorAll(`#f-${page} .field`).forEach((f) => { f.classList.remove('bad'); f.querySelector('.msg').textContent = ''; });
}

function update(page) {
  clearErrors(page);
  const req = readForm(page);
  const q = new URLSearchParams();
  for (const [key, , kind] of PAGES[page].fields) {
    const el = document.getElementById(`${page}-${key}`);
    const v = kind === 'check' ? (el.checked ? '1' : '') : el.value;
    if (v !== '') q.set(key, v);
  }
  history.replaceState(null, '', `#${page}?${q}`);
  if (req.error) return showError(page, req.error);
  const t0 = performance.now();
  try {
    PAGES[page].run(req);
  } catch (e) {
    showError(page, e.message);
  }
  const ms = performance.now() - t0;
  document.getElementById('status').textContent = `computed in ${ms.toFixed(1)} ms`;
  document.getElementById(`r-${page}`).classList.remove('busy');
  delete document.body.dataset.busy;
  document.body.dataset.lastMs = ms.toFixed(3);
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1); // for the browser tests
}

/* An input on a page whose update takes seconds (debounceMs) recomputes once the inputs have been quiet for that
 * long, not on every keystroke (the WebAssembly call blocks the page while it runs); meanwhile the status says
 * "computing…" and the results are dimmed, painted before the computation starts. Other pages update at once. */
const timers = {};
function schedule(page) {
  const ms = PAGES[page].debounceMs;
  if (!ms) return update(page);
  clearTimeout(timers[page]);
  document.getElementById('status').textContent = 'computing…';
  document.getElementById(`r-${page}`).classList.add('busy');
  document.body.dataset.busy = '1';
  timers[page] = setTimeout(() => { delete timers[page]; update(page); }, ms);
}

function must(r) {
  if (r && r.error !== undefined && r.status !== undefined) throw new Error(r.error);
  return r;
}

/* ---------- pages ---------- */
function runTrain(req) {
  const r = must(call('train', req));
  const out = document.getElementById('r-train');
  const mem = r.memory_per_gpu_bytes || {};
  const memParts = Object.fromEntries(Object.entries(mem).filter(([k]) => k !== 'total' && k !== 'capacity'));
  let cards = card('step time', secs(r.step_time_s), 'step_time_s') + card('MFU', pct(r.mfu), 'mfu') + card('HFU', pct(r.hfu), 'hfu') +
    card('tokens/s', si(r.tokens_per_s), 'tokens_per_s') + card('TFLOP/s per GPU', r.tflops_per_gpu.toFixed(1), 'tflops_per_gpu') +
    card('memory per GPU', `${gib(mem.total)} of ${gib(mem.capacity)}${r.fits ? '' : ' — DOES NOT FIT'}`, 'memory');
  const run = r.run || r.training || null;
  if (run && typeof run === 'object') {
    if (run.days !== undefined) cards += card('days', run.days.toPrecision(3), 'days');
    if (run.gpu_hours !== undefined) cards += card('GPU-hours', si(run.gpu_hours), 'gpu_hours');
  }
  if (r.energy_kwh) cards += card(`energy (${r.energy_kwh.scope || 'step'})`, si(r.energy_kwh.total * 1e3, 'Wh'), 'energy');
  if (r.cost_usd) cards += card(`cloud cost (${(r.energy_kwh && r.energy_kwh.scope) || 'step'})`, '$' + si(r.cost_usd.total), 'cost');
  if (r.co2e_kg) cards += card('CO2e', r.co2e_kg.total < 1000 ? r.co2e_kg.total.toPrecision(3) + ' kg' : Math.round(r.co2e_kg.total / 1000).toLocaleString('en') + ' t', 'co2e');
  out.innerHTML = `<div class="cards">${cards}</div>` +
    `<div class="panel"><h2>${esc(r.model)} on ${r.plan.gpus} × ${esc(r.system)}: TP ${r.plan.tp} × PP ${r.plan.pp} × DP ${r.plan.dp}` +
    `${r.plan.cp > 1 ? ' × CP ' + r.plan.cp : ''}${r.plan.ep > 1 ? ' × EP ' + r.plan.ep : ''} — bottleneck: ${esc(r.bottleneck)}</h2></div>` +
    `<div class="panel"><h2>Where a step's time goes (seconds)</h2>${hbars(r.time_breakdown_s, secs)}</div>` +
    `<div class="panel"><h2>Memory per GPU</h2>${stackbar(memParts, mem.capacity)}</div>`;
}

let searchRows = [], searchSort = { key: 'step_time_s', asc: true };
function runSearch(req) {
  const r = must(call('search', req));
  searchRows = r.plans || [];
  drawSearch(req, r);
}
function drawSearch(req, r) {
  const cols = ['tp', 'pp', 'dp', 'cp', 'ep', 'vpp', 'micro_batch', 'recompute', 'sequence_parallel', 'zero', 'dtype', 'step_time_s', 'mfu', 'memory_per_gpu_bytes', 'bottleneck'];
  const rows = searchRows.slice().sort((a, b) => {
    const x = a[searchSort.key], y = b[searchSort.key];
    return (x < y ? -1 : x > y ? 1 : 0) * (searchSort.asc ? 1 : -1);
  });
  const fmt = (k, v) => (k === 'step_time_s' ? secs(v) : k === 'mfu' ? pct(v) : k === 'memory_per_gpu_bytes' ? gib(v) : esc(v));
  const best = searchRows[0];
  let html = `<div class="cards">${card('plans evaluated', si((r && r.summary && r.summary.plans_evaluated) || 0), 'evaluated')}` +
    (best ? card('best step time', secs(best.step_time_s), 'best_step_time_s') + card('best MFU', pct(best.mfu), 'best_mfu') : '') + '</div>';
  html += `<div class="panel"><h2>Best plans (click a column to sort)</h2><table><thead><tr>${cols.map((c) => `<th data-col="${c}">${c.replace(/_/g, ' ')}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((p) => `<tr class="${p === best ? 'best' : ''}">${cols.map((c) => `<td>${fmt(c, p[c])}</td>`).join('')}</tr>`).join('') + '</tbody></table></div>';
  if (best && req) {
    const t = call('train', Object.assign({}, req, { top: undefined, tp: best.tp, pp: best.pp, dp: best.dp, cp: best.cp, ep: best.ep, vpp: best.vpp,
      micro_batch: best.micro_batch, recompute: best.recompute, sp: best.sequence_parallel || undefined, zero: best.zero, dtype: best.dtype, etp: best.etp }));
    if (!t.error) html += `<div class="panel"><h2>The best plan's step (seconds)</h2>${hbars(t.time_breakdown_s, secs)}</div>`;
  }
  const out = document.getElementById('r-search');
  out.innerHTML = html;
  out.querySelectorAll('th').forEach((th) => th.addEventListener('click', () => {
    const k = th.dataset.col;
    searchSort = { key: k, asc: searchSort.key === k ? !searchSort.asc : true };
    drawSearch(null, r);
  }));
}

function runServe(req) {
  const one = must(call('infer', Object.assign({ batch: 1 }, req)));
  const maxb = Math.max(1, Math.min(one.max_batch || 1, 1024));
  const pts = [];
  for (let b = 1; b <= maxb; b *= 2) pts.push(must(call('infer', Object.assign({}, req, { batch: b }))));
  const last = pts[pts.length - 1];
  const mem = one.memory_per_gpu_bytes || {};
  document.getElementById('r-serve').innerHTML = `<div class="cards">${card('TTFT (batch 1)', secs(one.ttft_s), 'ttft_s')}` +
    card('time per token (batch 1)', secs(one.tpot_s), 'tpot_s') + card('largest batch that fits', one.max_batch, 'max_batch') +
    card(`tokens/s (batch ${last.batch})`, si(last.tokens_per_s), 'tokens_per_s') + card(`$ per M tokens (batch ${last.batch})`, '$' + last.usd_per_million_tokens.toPrecision(3), 'usd') +
    card(`J per token (batch ${last.batch})`, last.joules_per_token.toPrecision(3), 'jpt') + '</div>' +
    `<div class="panel"><h2>Throughput vs latency as the batch grows (1, 2, 4, … ${last.batch})</h2>${lines([{ name: 'tokens/s per user vs tokens/s', pts: pts.map((p) => [p.tokens_per_s, p.tokens_per_s_per_user]) }],
      { xlabel: 'throughput, output tokens/s', ylabel: 'tokens/s per user', logx: true })}</div>` +
    `<div class="panel"><h2>Memory per GPU at batch 1</h2>${stackbar(Object.fromEntries(Object.entries(mem).filter(([k]) => k !== 'total' && k !== 'capacity')), mem.capacity)}</div>`;
}

/* FLOP and GPU counts span 20 orders of magnitude: scientific notation, 3 digits (the CLI's %.3g) */
const sci = (v) => (v === null || v === undefined || !isFinite(v) ? '–' : Number(v).toExponential(2));
const lastPoint = (r) => { const p = r.settings[0].points; return p.length ? p[p.length - 1] : null; }; // with binding

/* The paper's model (--mode epoch2024) and scaleplan's full model on the same setting, side by side. */
function runLimits(req) {
  const paper = must(call('limits', Object.assign({ mode: 'epoch2024' }, req)));
  const full = must(call('limits', Object.assign({ mode: 'full' }, req)));
  const rows = [
    ['max utilization (MFU)', (r) => pct(r.max_utilization), 'max_utilization'],
    ['linear regime ends (U ≤ 0.8 × max), FLOP', (r) => sci(r.linear_regime_end_flop), 'linear_regime_end_flop'],
    ['latency wall: largest feasible run, FLOP', (r) => sci(r.latency_wall_flop), 'latency_wall_flop'],
    ['largest run swept that finishes, FLOP', (r) => sci(r.largest_feasible_flop), 'largest_feasible_flop'],
    ['GPUs at the largest run', (r) => sci(lastPoint(r) && lastPoint(r).n_gpus), 'n_gpus'],
    ['what binds there', (r) => esc((lastPoint(r) && lastPoint(r).binding) || '–'), 'binding'],
    ['the sweep ended at', (r) => esc(r.sweep_end), 'sweep_end'],
  ];
  const cell = (r, m, f, k) => `<td data-key="${m}.${k}">${f(r)}</td>`;
  const table = `<table class="cmp"><thead><tr><th></th><th>the paper's model (epoch2024)</th><th>full model (${esc(full.settings[0].system)})</th></tr></thead><tbody>` +
    rows.map(([label, f, k]) => `<tr><td>${label}</td>${cell(paper, 'epoch2024', f, k)}${cell(full, 'full', f, k)}</tr>`).join('') + '</tbody></table>';
  const series = [
    { name: 'the paper\'s model (epoch2024)', pts: paper.points.map((p) => [p.compute_flop, p.utilization]) },
    { name: 'full model (MFU of the best plan)', pts: full.points.map((p) => [p.compute_flop, p.utilization]) },
  ];
  const marks = [
    { x: paper.linear_regime_end_flop, label: 'paper: linear regime ends', color: COLORS[0] },
    { x: paper.latency_wall_flop, label: 'paper: latency wall', color: COLORS[0], solid: true },
    { x: full.linear_regime_end_flop, label: 'full: linear regime ends', color: COLORS[1] },
    { x: full.latency_wall_flop, label: 'full: latency wall', color: COLORS[1], solid: true },
  ];
  const set0 = paper.settings[0], months = Number((set0.duration_s / 3.154e7 * 12).toPrecision(3)); // the paper's month
  const name = set0.setting.includes('months') ? set0.setting : `${set0.setting}, ${months} months`;
  const W = Math.max(320, Math.min(900, (document.getElementById('r-limits').clientWidth || 626) - 26)); // the panel's width
  const note = [paper, full].map((r) => r.settings[0].note).filter(Boolean).map((n) => `<p class="muted">${esc(n)}</p>`).join('');
  document.getElementById('r-limits').innerHTML = `<div class="cards">` +
    card('linear regime ends (paper)', sci(paper.linear_regime_end_flop) + ' FLOP', 'linear_regime_end_flop') +
    card('latency wall (paper)', sci(paper.latency_wall_flop) + ' FLOP', 'latency_wall_flop') +
    card('linear regime ends (full)', sci(full.linear_regime_end_flop) + ' FLOP', 'full_linear_regime_end_flop') +
    card('latency wall (full)', sci(full.latency_wall_flop) + ' FLOP', 'full_latency_wall_flop') + '</div>' +
    `<div class="panel"><h2>Utilization vs training compute: ${esc(name)}</h2>` +
    lines(series, { xlabel: 'training compute (FLOP, log scale)', ylabel: 'utilization (model FLOP / peak)', logx: true, y0: 0, legend: 'bottom',
      decades: true, marks, W }) +
    `<p class="muted">Dashed: where the linear regime ends (utilization falls to 0.8 × its maximum); solid: the latency wall (the largest run that still finishes in time; beyond it no plan does). Erdil &amp; Schneider-Joseph (2024) vs scaleplan's training model and plan search: docs/limits.md.</p></div>` +
    `<div class="panel"><h2>The paper's settings side by side with the full model</h2>${table}${note}</div>`;
}

function runLaws(req) {
  const at = must(call('law', req));
  const C = Number(at.compute_flop);
  const grid = [];
  for (let e = Math.log10(C) - 4; e <= Math.log10(C) + 2.001; e += 0.25) grid.push(Math.pow(10, e));
  const opt = grid.map((c) => must(call('law', { law: req.law, compute: c })));
  const iso = [C / 100, C, C * 100].map((c) => ({ name: `iso-FLOP ${si(c, 'FLOP', 2)}`, pts: [] }));
  [C / 100, C, C * 100].forEach((c, i) => {
    for (let f = -1.5; f <= 1.5001; f += 0.125) {
      const n = must(call('law', { law: req.law, compute: c })).n_opt * Math.pow(10, f);
      const r = call('law', { law: req.law, n: n, d: c / (6 * n) });
      if (!r.error && r.loss_at) iso[i].pts.push([n, r.loss_at.loss]);
    }
  });
  document.getElementById('r-laws').innerHTML = `<div class="cards">${card('compute-optimal parameters', si(at.n_opt), 'n_opt')}` +
    card('compute-optimal tokens', si(at.d_opt), 'd_opt') + card('loss', at.loss.toFixed(4), 'loss') + card('tokens per parameter', at.tokens_per_param.toFixed(1), 'tpp') +
    card('critical batch (tokens)', si(at.critical_batch_tokens), 'cb') + '</div>' +
    `<div class="panel"><h2>Loss of the compute-optimal model vs compute (${esc(at.law)})</h2>${lines([{ name: 'compute-optimal loss', pts: opt.map((o) => [o.compute_flop, o.loss]) }], { xlabel: 'compute (FLOP)', ylabel: 'loss', logx: true })}</div>` +
    `<div class="panel"><h2>Iso-FLOP curves: loss vs parameters at fixed compute</h2>${lines(iso, { xlabel: 'parameters', ylabel: 'loss', logx: true })}</div>`;
}

/* ---------- navigation and state ---------- */
function show(page) {
  if (!PAGES[page]) page = 'train';
  for (const p of Object.keys(timers)) { clearTimeout(timers[p]); delete timers[p]; } // the page shown now updates now
  document.querySelectorAll('.page').forEach((p) => p.classList.toggle('active', p.id === `page-${page}`));
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === page));
  update(page);
}

function loadState() {
  const [page, query] = location.hash.slice(1).split('?');
  const q = new URLSearchParams(query || '');
  if (PAGES[page]) for (const [key, , kind] of PAGES[page].fields) {
    if (!q.has(key)) continue;
    const el = document.getElementById(`${page}-${key}`);
    if (kind === 'check') el.checked = q.get(key) === '1'; else el.value = q.get(key);
  }
  return page || 'train';
}

function build() {
  for (const page of Object.keys(PAGES)) {
    const form = document.getElementById(`f-${page}`);
    form.innerHTML = PAGES[page].fields.map((f) => fieldHtml(page, f)).join('');
    form.addEventListener('input', () => schedule(page));
    form.addEventListener('submit', (e) => e.preventDefault());
  }
  document.querySelectorAll('nav a').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); show(a.dataset.page); }));
  show(loadState());
  window.addEventListener('hashchange', () => show(loadState()));
}

createScaleplan().then((M) => {
  SP = M;
  window.scaleplanCall = call; // for the browser tests: the same call the pages make
  build();
  document.body.dataset.ready = '1';
}).catch((e) => { document.getElementById('status').textContent = 'could not load the WebAssembly module: ' + e; });
