// RecCluster dashboard: plain JavaScript over the JSON API, plots with the vendored ECharts, live updates from GET /api/events.
// Every request carries "Authorization: Bearer <token>" when the user gave a token, so the event stream is read with fetch()
// and a stream reader: EventSource cannot send headers.
'use strict';

const TOKEN_KEY = 'reccluster-token';
const state = { page: null, charts: [], stream: null };
// For scripts and tests: how many events arrived, and the last one.
window.dashboard = { events: 0, types: {}, last: null, loads: 0, routing: false };

// ---------- token: a #token=... fragment is moved into sessionStorage and removed from the address bar ----------
function takeTokenFromUrl() {
  const m = location.hash.match(/[#&]token=([^&]*)/);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  const rest = location.hash.replace(/[#&]?token=[^&]*/, '').replace(/^&/, '');
  history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest.replace(/^#/, '') : '#/'));
}
const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
const headers = () => (token() ? { Authorization: 'Bearer ' + token() } : {});

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// Every route() starts a new generation; an answer that arrives after a newer route() began belongs to a page no longer shown
// (an older load finishing last would show stale data), so api() drops it by throwing Superseded.
let generation = 0;

class Superseded extends Error {}

async function api(path) {
  const mine = generation;
  const response = await fetch(path, { headers: headers(), cache: 'no-store' });
  const body = await response.text();
  if (mine !== generation) throw new Superseded(path);
  if (!response.ok) {
    let message = body;
    try { message = JSON.parse(body).error || body; } catch { /* not JSON */ }
    throw new ApiError(response.status, message || response.statusText);
  }
  return JSON.parse(body);
}

function notice(text) {
  const box = document.getElementById('notice');
  box.hidden = !text;
  box.textContent = text || '';
}

function failed(error) {
  if (error instanceof Superseded) return;   // a newer load shows the page
  if (error.status === 401 || error.status === 403) {
    notice('The API needs a token: enter it above (it is kept in this tab only), or open the page with #token=... in its address.');
    document.getElementById('page').replaceChildren();
  } else notice(`Could not load: ${error.message}`);
}

// ---------- small DOM helpers ----------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c.nodeType ? c : String(c));
  return node;
}
const fmt = (v, digits = 4) => (v === undefined || v === null ? '–' : typeof v === 'number' ? v.toFixed(digits) : String(v));
const paramText = (v) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
const link = (href, text) => el('a', { href }, text);
const statusCell = (s) => el('td', { class: 'status-' + s, 'data-col': 'status' }, s);
const enc = encodeURIComponent;

function disposeCharts() {
  for (const c of state.charts) c.dispose();
  state.charts = [];
}
function chart(container, option) {
  const c = echarts.init(container, null, { renderer: 'canvas' });
  c.setOption(option);
  state.charts.push(c);
  return c;
}
window.addEventListener('resize', () => state.charts.forEach((c) => c.resize()));

function mean(xs) { return xs.reduce((a, b) => a + b, 0) / xs.length; }
function std(xs) {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1));
}
function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Hyperparameters whose values differ between trials (the others say nothing about the objective).
function varyingParams(trials) {
  const keys = new Set(trials.flatMap((t) => Object.keys(t.params)));
  return [...keys].filter((k) => new Set(trials.map((t) => paramText(t.params[k]))).size > 1).sort();
}

// One point per epoch that has a validation value; a later attempt's value of an epoch replaces an earlier one.
function curvePoints(epochs, pick) {
  const byEpoch = new Map();
  for (const e of epochs) {
    const v = pick(e);
    if (v !== undefined && v !== null) byEpoch.set(e.epoch, v);
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]);
}

// ---------- pages ----------
const pages = {
  // The sweeps: state, progress, best so far.
  async sweeps() {
    const data = await api('/api/sweeps');
    const body = el('tbody');
    const rows = new Map();
    const row = (s) => {
      const done = s.completed + s.pruned + s.failed;
      const tr = el('tr', { 'data-sweep': s.sweep_id },
        el('td', {}, link(`#/sweep/${enc(s.sweep_id)}`, s.sweep_id)), statusCell(s.state),
        el('td', {}, el('span', { class: 'bar' }, el('span', { style: `width:${s.trials ? (100 * done) / s.trials : 0}%` })),
          ` ${done}/${s.trials}`),
        el('td', { class: 'num' }, s.running), el('td', { class: 'num' }, s.completed), el('td', { class: 'num' }, s.pruned),
        el('td', { class: 'num' }, s.failed), el('td', { class: 'num' }, s.total_epochs),
        el('td', {}, s.best ? [link(`#/trial/${enc(s.sweep_id)}/${s.best.trial}`, `trial ${s.best.trial}`),
          ` ${s.best.metric} ${fmt(s.best.valid[s.best.metric])}`] : el('span', { class: 'muted' }, 'none yet')));
      if (rows.has(s.sweep_id)) rows.get(s.sweep_id).replaceWith(tr); else body.append(tr);
      rows.set(s.sweep_id, tr);
    };
    data.sweeps.forEach(row);
    render(el('h1', {}, 'Sweeps'),
      data.sweeps.length === 0 ? el('p', { class: 'muted' }, 'No sweep yet: submit one (reccluster submit) or run reccluster sweep.')
        : el('table', { id: 'sweeps' }, el('thead', {}, el('tr', {}, ['sweep', 'state', 'progress', 'running', 'completed',
          'pruned', 'failed', 'epochs', 'best so far'].map((h) => el('th', {}, h)))), body));
    return { sweep: row };
  },

  // One sweep: live leaderboard, learning curves, objective against each hyperparameter, parallel coordinates, seed groups.
  async sweep(id) {
    const base = `/api/sweeps/${enc(id)}`;
    const [status, trials, board, curves] = await Promise.all([api(base), api(`${base}/trials`),
      api(`${base}/leaderboard?top=100000`), api(`${base}/curves`)]);
    const metric = curves.metric;
    const view = new SweepPage(id, status, trials.trials, board.rows, curves);
    render(el('h1', {}, `Sweep ${id}`), view.cards, el('h2', {}, 'Leaderboard'), view.filters, el('div', { class: 'scroll' }, view.table),
      el('h2', {}, 'Learning curves'),
      el('div', { class: 'charts' }, el('div', { class: 'chart', id: 'curve-valid' }), el('div', { class: 'chart', id: 'curve-loss' })),
      el('h2', {}, `Valid ${metric} against each hyperparameter`), el('div', { class: 'charts', id: 'param-charts' }),
      el('h2', {}, 'Parallel coordinates'), el('div', { class: 'charts' }, el('div', { class: 'chart wide', id: 'parallel' })),
      el('h2', {}, 'Seed groups'), el('p', { class: 'muted' }, 'Finished trials that differ only in sample_seed: mean ± std.'),
      view.seedTable);
    view.drawAll();
    return {
      sweep: (s) => s.sweep_id === id && view.setStatus(s),
      trial: (t) => t.sweep_id === id && view.trialChanged(t),
      epoch: (e) => e.sweep_id === id && view.epochAdded(e),
    };
  },

  // One trial: epochs, attempts, node, params, test metrics.
  async trial(id, n) {
    const base = `/api/sweeps/${enc(id)}`;
    const [trials, board, curves] = await Promise.all([api(`${base}/trials`), api(`${base}/leaderboard?top=100000`),
      api(`${base}/curves`)]);
    const trial = trials.trials.find((t) => t.index === Number(n));
    if (!trial) throw new ApiError(404, `no trial ${n} in sweep ${id}`);
    const result = board.rows.find((r) => r.trial.index === trial.index);
    const epochs = curves.trials.find((c) => c.trial === trial.index)?.epochs || [];
    const names = [...new Set(epochs.flatMap((e) => Object.keys(e.valid)))].sort();
    const epochBody = el('tbody');
    const addEpoch = (e) => epochBody.append(el('tr', { 'data-epoch': e.epoch }, el('td', { class: 'num' }, e.attempt),
      el('td', { class: 'num' }, e.epoch), el('td', { class: 'num' }, fmt(e.loss)),
      names.map((m) => el('td', { class: 'num' }, fmt(e.valid[m]))), el('td', {}, e.node || '–')));
    epochs.forEach(addEpoch);
    const metricTable = (title, values) => el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, title), el('th', {}, 'value'))),
      el('tbody', {}, Object.keys(values || {}).sort().map((k) =>
        el('tr', {}, el('td', {}, k), el('td', { class: 'num' }, fmt(values[k]))))));
    render(el('h1', {}, [link(`#/sweep/${enc(id)}`, id), ` · trial ${trial.index}`]),
      el('div', { class: 'cards' }, card('status', trial.status), card('model', trial.model), card('attempts', trial.attempts),
        card('node', trial.node || '–'), card('best epoch', trial.best_epoch ?? '–'), card('epochs', trial.epochs_run ?? epochs.length),
        card('started', trial.started ? new Date(trial.started).toLocaleString() : '–')),
      el('h2', {}, 'Hyperparameters'),
      el('table', { id: 'params' }, el('tbody', {}, Object.keys(trial.params).sort().map((k) =>
        el('tr', {}, el('th', {}, k), el('td', {}, paramText(trial.params[k])))))),
      el('h2', {}, 'Metrics at the best epoch'),
      result ? el('div', { class: 'cards' }, metricTable('test', result.test), metricTable('valid', result.valid))
        : el('p', { class: 'muted' }, 'Not finished yet.'),
      el('h2', {}, 'Learning curve'), el('div', { class: 'charts' }, el('div', { class: 'chart', id: 'trial-curve' })),
      el('h2', {}, 'Epochs (every attempt)'),
      el('table', { id: 'epochs' },
        el('thead', {}, el('tr', {}, ['attempt', 'epoch', 'loss', ...names, 'node'].map((h) => el('th', {}, h)))),
        epochBody));
    const c = chart(document.getElementById('trial-curve'), trialCurveOption(curves.metric, epochs));
    return {
      epoch: (e) => {
        if (e.sweep_id !== id || e.trial !== trial.index) return;
        epochs.push(e);
        addEpoch(e);
        c.setOption(trialCurveOption(curves.metric, epochs));
      },
      trial: (t) => t.sweep_id === id && t.index === trial.index && route(),
    };
  },

  // The cluster: nodes, roles, slots busy and free, GPUs.
  async cluster() {
    const c = await api('/api/cluster');
    const modeText = { cluster: 'Cluster mode: a coordinator and its workers.',
      local: 'Local mode: one reccluster sweep process runs the trials on this machine; there is no cluster.',
      store: 'Local dashboard over a state folder: no sweep is run from here and there are no workers.' }[c.mode];
    render(el('h1', {}, 'Cluster'), el('p', { id: 'mode', 'data-mode': c.mode }, modeText),
      el('div', { class: 'cards' }, card('slots', c.slots_total), card('busy', c.slots_busy), card('free', c.slots_free),
        card('GPUs', c.workers.reduce((a, w) => a + (w.gpus || 0), 0))),
      el('h2', {}, 'Workers'),
      c.workers.length === 0 ? el('p', { class: 'muted' }, 'No worker.') : el('table', { id: 'workers' },
        el('thead', {}, el('tr', {}, ['node', 'worker', 'roles', 'slots', 'busy', 'free', 'GPUs'].map((h) => el('th', {}, h)))),
        el('tbody', {}, c.workers.map((w) => el('tr', {}, el('td', {}, w.node), el('td', {}, w.worker),
          el('td', {}, w.roles.join(', ') || '–'),
          el('td', { class: 'num' }, w.total), el('td', { class: 'num' }, w.busy), el('td', { class: 'num' }, w.free),
          el('td', { class: 'num' }, w.gpus || 0))))),
      el('h2', {}, 'Members'),
      c.members.length === 0 ? el('p', { class: 'muted' }, 'None: not a cluster.') : el('table', { id: 'members' },
        el('thead', {}, el('tr', {}, ['address', 'roles', 'status'].map((h) => el('th', {}, h)))),
        el('tbody', {}, c.members.map((m) => el('tr', {}, el('td', {}, m.address), el('td', {}, m.roles.join(', ')),
          el('td', {}, m.status))))));
    return {};
  },
};

function card(title, value) { return el('div', { class: 'card' }, el('span', { class: 'muted' }, title), el('b', {}, value)); }

function render(...nodes) {
  disposeCharts();
  document.getElementById('page').replaceChildren(...nodes.flat());
}

function trialCurveOption(metric, epochs) {
  return {
    animation: false, tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 60, right: 60, top: 40, bottom: 40 },
    xAxis: { type: 'value', name: 'epoch', minInterval: 1 },
    yAxis: [{ type: 'value', name: `valid ${metric}`, scale: true }, { type: 'value', name: 'loss', scale: true }],
    series: [
      { name: `valid ${metric}`, type: 'line', data: curvePoints(epochs, (e) => e.valid[metric]), showSymbol: true },
      { name: 'loss', type: 'line', yAxisIndex: 1, data: curvePoints(epochs, (e) => e.loss), showSymbol: false,
        lineStyle: { type: 'dashed' } },
    ],
  };
}

// ---------- the sweep page's state: trials, their results and curves, redrawn as events arrive ----------
class SweepPage {
  constructor(id, status, trials, rows, curves) {
    this.id = id;
    this.metric = curves.metric;
    this.status = status;
    this.trials = new Map(trials.map((t) => [t.index, t]));
    this.results = new Map(rows.map((r) => [r.trial.index, r]));
    this.curves = new Map(curves.trials.map((c) => [c.trial, c.epochs]));
    this.names = [...new Set(rows.flatMap((r) => Object.keys(r.valid)))].sort();
    this.sort = { key: 'valid:' + this.metric, desc: true };
    this.filter = { status: '', model: '' };
    this.cards = el('div', { class: 'cards', id: 'sweep-cards' });
    this.table = el('table', { id: 'leaderboard' });
    this.seedTable = el('div', { id: 'seed-groups' });
    this.filters = el('div', { class: 'filters' });
    this.refetching = null;
    this.drawFilters();
    this.drawCards();
    this.drawTable();
  }

  setStatus(s) { this.status = s; this.drawCards(); }

  // A trial changed: a finished one has final metrics to fetch (once per burst of changes).
  trialChanged(t) {
    const was = this.trials.get(t.index);
    this.trials.set(t.index, t);
    if (!this.curves.has(t.index)) this.curves.set(t.index, []);
    if (['completed', 'pruned', 'failed'].includes(t.status) && was?.status !== t.status) this.refetchResults();
    this.drawFilters();
    this.drawTable();
    this.drawCurves();
  }

  epochAdded(e) {
    if (!this.curves.has(e.trial)) this.curves.set(e.trial, []);
    this.curves.get(e.trial).push(e);
    this.drawTable();
    this.drawCurves();
  }

  refetchResults() {
    if (this.refetching) return;
    this.refetching = api(`/api/sweeps/${enc(this.id)}/leaderboard?top=100000`).then((board) => {
      this.results = new Map(board.rows.map((r) => [r.trial.index, r]));
      this.names = [...new Set(board.rows.flatMap((r) => Object.keys(r.valid)))].sort();
      for (const r of board.rows) this.trials.set(r.trial.index, { ...r.trial, started: this.trials.get(r.trial.index)?.started });
      this.drawAll();
    }).catch(failed).finally(() => { this.refetching = null; });
  }

  drawAll() { this.drawCards(); this.drawTable(); this.drawCurves(); this.drawParams(); this.drawParallel(); this.drawSeeds(); }

  drawCards() {
    const s = this.status;
    this.cards.replaceChildren(card('state', s.state), card('trials', s.trials), card('running', s.running),
      card('completed', s.completed), card('pruned', s.pruned), card('failed', s.failed), card('epochs', s.total_epochs),
      card(`best ${this.metric}`, s.best ? `${fmt(s.best.valid[this.metric])} (trial ${s.best.trial})` : '–'));
  }

  drawFilters() {
    const models = [...new Set([...this.trials.values()].map((t) => t.model))].sort();
    const select = (name, values) => el('label', {}, `${name} `, el('select', { id: `filter-${name}`,
      onchange: (ev) => { this.filter[name] = ev.target.value; this.drawTable(); } },
    el('option', { value: '' }, 'all'),
    values.map((v) => el('option', v === this.filter[name] ? { value: v, selected: '' } : { value: v }, v))));
    this.filters.replaceChildren(select('status', ['pending', 'running', 'completed', 'pruned', 'failed', 'interrupted']),
      select('model', models));
  }

  latest(index) {
    const points = curvePoints(this.curves.get(index) || [], (e) => e.valid[this.metric]);
    return points.length ? points[points.length - 1] : null;
  }

  // Columns: the trial's, then every validation and test metric at the best epoch, then the varying hyperparameters.
  columns() {
    const trials = [...this.trials.values()];
    const varying = varyingParams(trials);
    const cols = [
      { key: 'trial', get: (t) => t.index, num: true, cell: (t) => link(`#/trial/${enc(this.id)}/${t.index}`, t.index) },
      { key: 'model', get: (t) => t.model },
      { key: 'status', get: (t) => t.status },
      { key: 'attempts', get: (t) => t.attempts, num: true },
      { key: 'node', get: (t) => t.node || '' },
      { key: 'epoch', get: (t) => this.latest(t.index)?.[0], num: true, title: 'epoch (latest)' },
      { key: 'latest', get: (t) => this.latest(t.index)?.[1], num: true, title: `latest ${this.metric}` },
      { key: 'best_epoch', get: (t) => t.best_epoch, num: true, title: 'best epoch' },
    ];
    for (const m of this.names) cols.push({ key: 'valid:' + m, get: (t) => this.results.get(t.index)?.valid[m], num: true });
    for (const m of this.names) cols.push({ key: 'test:' + m, get: (t) => this.results.get(t.index)?.test[m], num: true });
    for (const p of varying) cols.push({ key: 'param:' + p, get: (t) => t.params[p], title: p, param: true });
    return cols;
  }

  drawTable() {
    const cols = this.columns();
    const col = cols.find((c) => c.key === this.sort.key) || cols[0];
    const trials = [...this.trials.values()].filter((t) => (!this.filter.status || t.status === this.filter.status)
      && (!this.filter.model || t.model === this.filter.model));
    // Missing values sort last either way; ties by trial number, as the API orders its leaderboard.
    trials.sort((a, b) => {
      const x = col.get(a), y = col.get(b);
      if (x === undefined || x === null) return y === undefined || y === null ? a.index - b.index : 1;
      if (y === undefined || y === null) return -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : paramText(x).localeCompare(paramText(y));
      return (this.sort.desc ? -c : c) || a.index - b.index;
    });
    const best = this.status.best?.trial;
    const head = el('tr', {}, cols.map((c) => el('th', {
      class: 'sortable' + (c === col ? ' sorted' + (this.sort.desc ? '' : ' asc') : ''), 'data-key': c.key,
      onclick: () => { this.sort = { key: c.key, desc: c === col ? !this.sort.desc : c.num === true }; this.drawTable(); },
    }, c.title || c.key)));
    const body = trials.map((t) => el('tr', { 'data-trial': t.index, class: t.index === best ? 'best' : null }, cols.map((c) => {
      const v = c.get(t);
      if (c.key === 'status') return statusCell(v);
      return el('td', { class: c.num ? 'num' : null, 'data-col': c.key, 'data-value': v === undefined || v === null ? '' : paramText(v) },
        c.cell ? c.cell(t) : typeof v === 'number' && !Number.isInteger(v) ? fmt(v) : v === undefined || v === null ? '–' : paramText(v));
    })));
    this.table.replaceChildren(el('thead', {}, head), el('tbody', {}, body));
  }

  // Validation objective and loss per trial: the best trial drawn bold, pruned trials dashed and ended by a cross where
  // the scheduler stopped them.
  drawCurves() {
    const best = this.status.best?.trial;
    const series = (pick) => [...this.curves.entries()].sort((a, b) => a[0] - b[0]).map(([index, epochs]) => {
      const t = this.trials.get(index);
      const data = curvePoints(epochs, pick);
      const pruned = t?.status === 'pruned';
      if (pruned && data.length) {
        const [x, y] = data[data.length - 1];
        data[data.length - 1] = { value: [x, y], symbol: 'path://M0,0L10,10M10,0L0,10', symbolSize: 12,
          itemStyle: { color: '#c53030', borderColor: '#c53030', borderWidth: 2.5 } };
      }
      return {
        name: `trial ${index}`, type: 'line', data, showSymbol: data.length < 60, symbolSize: 4, z: index === best ? 10 : 2,
        lineStyle: { width: index === best ? 4 : 1.5, type: pruned ? 'dashed' : 'solid',
          opacity: index === best || best === undefined ? 1 : 0.7 },
        emphasis: { focus: 'series' }, tooltip: { valueFormatter: (v) => fmt(v) },
        markPoint: pruned && data.length ? { symbol: 'pin', symbolSize: 1, label: { show: true, formatter: 'pruned', color: '#c53030',
          position: 'top' }, data: [{ coord: data[data.length - 1].value }] } : undefined,
      };
    });
    const option = (title, yName, s) => ({
      animation: false, title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'item' }, legend: { type: 'scroll', bottom: 0 }, grid: { left: 60, right: 20, top: 40, bottom: 50 },
      xAxis: { type: 'value', name: 'epoch', minInterval: 1 }, yAxis: { type: 'value', name: yName, scale: true }, series: s,
    });
    this.curveChart('curve-valid', option(`valid ${this.metric} (bold: best trial; dashed ✕: pruned)`, this.metric,
      series((e) => e.valid[this.metric])));
    this.curveChart('curve-loss', option('training loss', 'loss', series((e) => e.loss)));
  }

  curveChart(id, option) {
    const container = document.getElementById(id);
    if (!container) return;
    const existing = echarts.getInstanceByDom(container);
    if (existing) existing.setOption(option, { notMerge: true });
    else chart(container, option);
  }

  finished() { return [...this.results.values()].filter((r) => r.valid[this.metric] !== undefined); }

  // Scatter for numeric hyperparameters, box plot for categorical ones (strings, booleans).
  drawParams() {
    const holder = document.getElementById('param-charts');
    if (!holder) return;
    const rows = this.finished();
    const params = varyingParams(rows.map((r) => r.trial));
    holder.replaceChildren(...params.map((p) => el('div', { class: 'chart small', id: `param-${p}` })));
    if (params.length === 0) holder.replaceChildren(el('p', { class: 'muted' }, 'No finished trials with varying hyperparameters yet.'));
    for (const p of params) {
      const values = rows.filter((r) => p in r.trial.params);
      const numeric = values.every((r) => typeof r.trial.params[p] === 'number');
      const common = { animation: false, title: { text: p, left: 'center', textStyle: { fontSize: 13 } }, tooltip: {},
        grid: { left: 60, right: 20, top: 35, bottom: 35 }, yAxis: { type: 'value', name: this.metric, scale: true } };
      if (numeric) {
        chart(document.getElementById(`param-${p}`), { ...common, xAxis: { type: 'value', name: p, scale: true },
          series: [{ type: 'scatter', symbolSize: 9,
            data: values.map((r) => ({ value: [r.trial.params[p], r.valid[this.metric]], name: `trial ${r.trial.index}` })) }] });
      } else {
        const groups = new Map();
        for (const r of values) {
          const k = paramText(r.trial.params[p]);
          if (!groups.has(k)) groups.set(k, []);
          groups.get(k).push(r.valid[this.metric]);
        }
        const keys = [...groups.keys()].sort();
        const box = keys.map((k) => {
          const s = groups.get(k).slice().sort((a, b) => a - b);
          return [s[0], quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75), s[s.length - 1]];
        });
        chart(document.getElementById(`param-${p}`), { ...common, xAxis: { type: 'category', data: keys, name: p },
          series: [{ type: 'boxplot', data: box },
            { type: 'scatter', symbolSize: 6, data: keys.flatMap((k, i) => groups.get(k).map((v) => [i, v])) }] });
      }
    }
  }

  drawParallel() {
    const container = document.getElementById('parallel');
    if (!container) return;
    const rows = this.finished();
    const params = varyingParams(rows.map((r) => r.trial));
    if (rows.length === 0) { container.replaceChildren(el('p', { class: 'muted' }, 'No finished trial yet.')); return; }
    const axes = params.map((p, i) => {
      const numeric = rows.every((r) => typeof r.trial.params[p] === 'number');
      return numeric ? { dim: i, name: p, type: 'value', scale: true }
        : { dim: i, name: p, type: 'category', data: [...new Set(rows.map((r) => paramText(r.trial.params[p])))].sort() };
    });
    axes.push({ dim: params.length, name: this.metric, type: 'value', scale: true });
    const values = rows.map((r) => r.valid[this.metric]);
    chart(container, {
      animation: false, parallelAxis: axes, parallel: { left: 60, right: 90, top: 40, bottom: 30 },
      visualMap: { type: 'continuous', dimension: params.length, min: Math.min(...values), max: Math.max(...values), right: 0, top: 40,
        calculable: true, precision: 3, inRange: { color: ['#c6d4ef', '#2f6fde', '#102a66'] }, text: ['high', 'low'] },
      series: [{ type: 'parallel', lineStyle: { width: 2, opacity: 0.8 },
        data: rows.map((r) => [...params.map((p) =>
          (typeof r.trial.params[p] === 'number' ? r.trial.params[p] : paramText(r.trial.params[p]))),
          r.valid[this.metric]]) }],
    });
  }

  drawSeeds() {
    const rows = this.finished();
    const groups = new Map();
    for (const r of rows) {
      const { sample_seed: seed, ...rest } = r.trial.params;
      const key = r.trial.model + ' ' + JSON.stringify(Object.keys(rest).sort().map((k) => [k, rest[k]]));
      if (!groups.has(key)) groups.set(key, { model: r.trial.model, params: rest, rows: [] });
      groups.get(key).rows.push(r);
    }
    const multi = [...groups.values()].filter((g) => g.rows.length > 1);
    if (multi.length === 0) {
      this.seedTable.replaceChildren(el('p', { class: 'muted' }, 'No two finished trials differ only in sample_seed.'));
      return;
    }
    const varying = varyingParams(multi.map((g) => ({ params: g.params })));
    const ms = (xs) => `${fmt(mean(xs))} ± ${fmt(std(xs))}`;
    this.seedTable.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, ['model', 'hyperparameters', 'trials', 'seeds',
      `valid ${this.metric}`, `test ${this.metric}`].map((h) => el('th', {}, h)))),
    el('tbody', {}, multi.map((g) => el('tr', {}, el('td', {}, g.model),
      el('td', {}, varying.map((k) => `${k}=${paramText(g.params[k])}`).join(' ') || '–'), el('td', { class: 'num' }, g.rows.length),
      el('td', {}, g.rows.map((r) => r.trial.params.sample_seed ?? '(default)').join(', ')),
      el('td', { class: 'num' }, ms(g.rows.map((r) => r.valid[this.metric]))),
      el('td', { class: 'num' }, ms(g.rows.map((r) => r.test[this.metric]).filter((v) => v !== undefined))))))));
  }
}

// ---------- routing: #/, #/sweep/ID, #/trial/ID/N, #/cluster ----------
async function route() {
  const mine = ++generation;
  window.dashboard.routing = true;
  takeTokenFromUrl();
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p).map(decodeURIComponent);
  const [name, ...args] = parts.length ? parts : ['sweeps'];
  const page = pages[name] ? name : 'sweeps';
  notice('');
  try {
    const shown = await pages[page](...args);
    if (mine !== generation) return;
    state.page = shown;
    window.dashboard.loads++;
    document.body.dataset.page = page;
  } catch (e) {
    if (e instanceof Superseded) return;
    state.page = {};
    failed(e);
  } finally {
    if (mine === generation) window.dashboard.routing = false;
  }
}

// ---------- live updates: GET /api/events read with fetch(), reconnecting after a pause when it ends ----------
async function listen() {
  const live = document.getElementById('live');
  const controller = new AbortController();
  state.stream = controller;
  try {
    const response = await fetch('/api/events', { headers: headers(), signal: controller.signal, cache: 'no-store' });
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    live.className = 'live on';
    live.textContent = 'live';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (e) {
    if (controller.signal.aborted) return;
    if (e.status === 401 || e.status === 403) { live.textContent = 'no token'; live.className = 'live off'; return; }
  }
  live.className = 'live off';
  live.textContent = 'reconnecting';
  if (state.stream === controller) setTimeout(listen, 2000);
}

function dispatch(block) {
  let type = 'message', data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;   // a comment: the keep-alive
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (!data) return;
  const payload = JSON.parse(data);
  window.dashboard.events++;
  window.dashboard.types[type] = (window.dashboard.types[type] || 0) + 1;
  window.dashboard.last = { type, payload };
  // hello: (re)connected; what the page shows may be stale, so it is loaded again.
  if (type === 'hello') { route(); return; }
  state.page?.[type]?.(payload);
}

function restartStream() {
  state.stream?.abort();
  listen();
}

document.getElementById('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = document.getElementById('token').value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById('token').value = '';
  restartStream();
});
window.addEventListener('hashchange', route);
takeTokenFromUrl();
route();
listen();
