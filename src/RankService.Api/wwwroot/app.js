// The jobs page: plain JavaScript over the service's JSON API, no build step and nothing loaded from elsewhere.
// It polls GET /jobs (every second while a job is queued or running, every few seconds otherwise), the selected
// job's GET /jobs/{id}/metrics while that job changes, and GET /models when a job finishes.
'use strict';

(() => {
  const KEY_STORAGE = 'rankservice.apiKey';
  const FAST_POLL_MS = 1000;
  const SLOW_POLL_MS = 4000;
  const MODELS_EVERY_MS = 10000;
  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
  const VALIDATION_KEYS = ['NDCG@10', 'HR@10', 'MRR'];
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  const state = {
    selectedId: null,    // job whose curves are shown
    curveKey: null,      // id|state|epoch of the curves last drawn
    jobsKey: null,       // ids and states of the jobs last listed; a change refreshes the models
    modelsAt: 0,         // when the models were last fetched
    anyActive: false,
    timer: null,
    busy: false,
    again: false,        // a refresh was asked for while one ran
  };

  // ---- HTTP -------------------------------------------------------------------------------------------------

  /** Calls the API; resolves to {ok, status, data} (data: parsed JSON, a ProblemDetails on errors). Rejects only when the service is unreachable. */
  async function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) {
      headers['X-Api-Key'] = key;
    }
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { title: `HTTP ${response.status}`, detail: text.slice(0, 500) };
      }
    }
    return { ok: response.ok, status: response.status, data };
  }

  /** One line out of a ProblemDetails: title and detail, with a hint when a key is missing or refused. */
  function problemText(result) {
    const p = result.data || {};
    let text = [p.title, p.detail].filter(Boolean).join(': ') || `The service answered HTTP ${result.status}.`;
    if ((result.status === 401 || result.status === 403) && !sessionStorage.getItem(KEY_STORAGE)) {
      text += ' Enter an API key at the top of the page.';
    }
    return text;
  }

  /** The service writes NaN and infinities as strings ("NaN"); everything else is a JSON number. */
  function num(value) {
    if (typeof value === 'number') {
      return value;
    }
    if (value === 'NaN') {
      return NaN;
    }
    if (value === 'Infinity') {
      return Infinity;
    }
    if (value === '-Infinity') {
      return -Infinity;
    }
    return value == null ? NaN : Number(value);
  }

  // ---- small DOM helpers ------------------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'class') {
        node.className = value;
      } else if (name === 'text') {
        node.textContent = value;
      } else if (value !== undefined && value !== null && value !== false) {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      node.append(child);
    }
    return node;
  }

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) {
      node.setAttribute(name, String(value));
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function show(node, text) {
    node.textContent = text || '';
    node.hidden = !text;
  }

  function fixed(value, digits = 4) {
    const v = num(value);
    return Number.isFinite(v) ? v.toFixed(digits) : (Number.isNaN(v) ? '–' : String(v));
  }

  function duration(seconds) {
    if (seconds == null || !Number.isFinite(num(seconds))) {
      return '';
    }
    const s = num(seconds);
    if (s < 60) {
      return `${s.toFixed(1)} s`;
    }
    if (s < 3600) {
      return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    }
    return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  }

  const isActive = job => job.state === 'queued' || job.state === 'running';

  // ---- banner (service unreachable) ---------------------------------------------------------------------------

  function banner(text) {
    show($('#banner'), text);
  }

  // ---- API key --------------------------------------------------------------------------------------------------

  function setUpApiKey() {
    const input = $('#api-key');
    input.value = sessionStorage.getItem(KEY_STORAGE) || '';
    input.addEventListener('change', () => {
      const value = input.value.trim();
      if (value) {
        sessionStorage.setItem(KEY_STORAGE, value);
      } else {
        sessionStorage.removeItem(KEY_STORAGE);
      }
    });
    $('#api-key-clear').addEventListener('click', () => {
      input.value = '';
      sessionStorage.removeItem(KEY_STORAGE);
    });
  }

  // ---- forms: field errors from ProblemDetails ------------------------------------------------------------------

  function clearErrors(form, formError) {
    for (const small of $$('.field-error', form)) {
      small.textContent = '';
    }
    for (const input of $$('[aria-invalid]', form)) {
      input.removeAttribute('aria-invalid');
    }
    show(formError, '');
  }

  /** Puts each ProblemDetails `errors` entry next to its field; the rest (and the detail) goes under the form. */
  function showErrors(form, formError, result) {
    const errors = (result.data && result.data.errors) || {};
    const leftOver = [];
    for (const [field, messages] of Object.entries(errors)) {
      const target = $(`.field-error[data-error-for="${CSS.escape(field)}"]`, form);
      const text = [].concat(messages).join(' ');
      if (target) {
        target.textContent = text;
        const input = $(`[name="${CSS.escape(field)}"]`, form);
        if (input) {
          input.setAttribute('aria-invalid', 'true');
        }
      } else {
        leftOver.push(`${field}: ${text}`);
      }
    }
    const headline = Object.keys(errors).length > 0 ? (result.data.detail || result.data.title || 'Some fields are invalid.') : problemText(result);
    show(formError, [headline, ...leftOver].join(' '));
  }

  // ---- start a job -------------------------------------------------------------------------------------------------

  /** The form's non-empty fields as a POST /jobs body; null (with field errors shown) when a field cannot be read. */
  function jobRequest(form) {
    const body = {};
    let valid = true;
    for (const input of $$('input[name], select[name]', form)) {
      const raw = input.value.trim();
      if (raw === '') {
        // A number input holding text the browser cannot parse also reads as empty.
        if (input.validity && input.validity.badInput) {
          $(`.field-error[data-error-for="${input.name}"]`, form).textContent = 'Not a number.';
          valid = false;
        }
        continue;
      }
      switch (input.dataset.kind) {
        case 'int':
        case 'number':
          body[input.name] = Number(raw);
          break;
        case 'int-list': {
          const parts = raw.split(/[\s,]+/).filter(Boolean).map(Number);
          if (parts.some(p => !Number.isInteger(p))) {
            $(`.field-error[data-error-for="${input.name}"]`, form).textContent = 'Whole numbers separated by commas, e.g. 128,64.';
            valid = false;
          }
          body[input.name] = parts;
          break;
        }
        default:
          body[input.name] = raw;
      }
    }
    return valid ? body : null;
  }

  function setUpJobForm() {
    const form = $('#job-form');
    const formError = $('#job-form-error');
    const status = $('#job-form-status');
    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form, formError);
      status.textContent = '';
      const body = jobRequest(form);
      if (!body) {
        return;
      }
      const button = $('#job-submit');
      button.disabled = true;
      try {
        const result = await api('POST', '/jobs', body);
        if (result.ok) {
          status.textContent = `Job ${result.data.id} queued.`;
          state.selectedId = result.data.id;
          state.curveKey = null;
          refreshSoon();
        } else {
          showErrors(form, formError, result);
        }
      } catch (error) {
        show(formError, `The service did not answer: ${error.message}`);
      } finally {
        button.disabled = false;
      }
    });
  }

  // ---- jobs list ---------------------------------------------------------------------------------------------------

  function jobRow(job) {
    const row = el('tr', { class: 'job', 'data-job-id': job.id, tabindex: 0 });
    const who = el('td', { class: 'who' },
      el('code', { class: 'job-id', text: job.id }),
      el('div', { class: 'sub', text: '' }));
    const stateCell = el('td', {}, el('span', { class: 'state badge' }));
    const bar = el('div', { class: 'bar' });
    const progress = el('td', { class: 'progress-col' },
      el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': `progress of job ${job.id}` }, bar),
      el('div', { class: 'sub progress-text' }));
    const best = el('td', { class: 'best num' });
    const actions = el('td', { class: 'actions' });
    row.append(who, stateCell, progress, best, actions);
    row.addEventListener('click', event => {
      if (!event.target.closest('button')) {
        select(job.id);
      }
    });
    row.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        select(job.id);
      }
    });
    return row;
  }

  function updateJobRow(row, job) {
    const o = job.options || {};
    $('.who .sub', row).textContent = `${job.dataset} · ${o.loss || ''} · ${new Date(job.createdAt).toLocaleString()}`;
    const badge = $('.state', row);
    badge.textContent = job.state;
    badge.className = `state badge state-${job.state}`;
    if (job.cancelRequested && isActive(job)) {
      badge.textContent = `${job.state} (stopping)`;
    }
    const p = job.progress || {};
    const percent = Math.max(0, Math.min(100, num(p.percent) || 0));
    const meter = $('.progress', row);
    meter.setAttribute('aria-valuenow', String(percent));
    meter.dataset.state = job.state;
    $('.bar', row).style.width = `${percent}%`;
    const parts = [`epoch ${p.epoch}/${p.totalEpochs}`, `${percent}%`];
    if (num(p.elapsedSeconds) > 0) {
      parts.push(duration(p.elapsedSeconds));
    }
    if (p.estimatedRemainingSeconds != null) {
      parts.push(`~${duration(p.estimatedRemainingSeconds)} left`);
    }
    if (job.stoppedEarly) {
      parts.push('stopped early');
    }
    $('.progress-text', row).textContent = parts.join(' · ');
    if (job.error) {
      $('.progress-text', row).textContent += ` · ${job.error}`;
    }
    $('.best', row).textContent = job.bestValidation ? `${fixed(job.bestValidation['NDCG@10'])} (epoch ${job.bestEpoch})` : '–';
    const actions = $('.actions', row);
    const wantCancel = isActive(job) && !job.cancelRequested;
    if (wantCancel && !$('button', actions)) {
      const button = el('button', { type: 'button', class: 'small cancel', text: 'Cancel' });
      button.addEventListener('click', () => cancelJob(job.id, button));
      actions.append(button);
    } else if (!wantCancel) {
      actions.replaceChildren();
    }
    row.classList.toggle('selected', job.id === state.selectedId);
  }

  async function cancelJob(id, button) {
    button.disabled = true;
    try {
      const result = await api('DELETE', `/jobs/${encodeURIComponent(id)}`);
      show($('#jobs-error'), result.ok ? '' : problemText(result));
    } catch (error) {
      show($('#jobs-error'), `The service did not answer: ${error.message}`);
    }
    refreshSoon();
  }

  function renderJobs(page) {
    const body = $('#jobs tbody');
    const existing = new Map($$('tr.job', body).map(row => [row.dataset.jobId, row]));
    const rows = page.items.map(job => {
      const row = existing.get(job.id) || jobRow(job);
      updateJobRow(row, job);
      return row;
    });
    // Reorder only when the order changed, so focus and hover survive a refresh.
    const current = $$('tr.job', body);
    if (current.length !== rows.length || current.some((row, i) => row !== rows[i])) {
      body.replaceChildren(...rows);
    }
    $('#jobs-empty').hidden = rows.length > 0;
    $('#jobs-count').textContent = page.total > page.items.length ? `(newest ${page.items.length} of ${page.total})` : `(${page.total})`;
    state.anyActive = page.items.some(isActive);
    if (!state.selectedId && page.items.length > 0) {
      state.selectedId = page.items[0].id;
    }
    for (const row of rows) {
      row.classList.toggle('selected', row.dataset.jobId === state.selectedId);
    }
    const key = page.items.map(j => `${j.id}:${j.state}`).join(',');
    const changed = key !== state.jobsKey;
    state.jobsKey = key;
    return changed;
  }

  function select(id) {
    state.selectedId = id;
    state.curveKey = null;
    for (const row of $$('#jobs tr.job')) {
      row.classList.toggle('selected', row.dataset.jobId === id);
    }
    refreshSoon();
  }

  // ---- curves ------------------------------------------------------------------------------------------------------

  /** A "nice" tick step (1, 2 or 5 times a power of ten) for about `count` ticks over `span` (> 0). */
  function tickStep(span, count) {
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const scaled = raw / power; // in [1, 10)
    return (scaled > 5 ? 10 : scaled > 2 ? 5 : scaled > 1 ? 2 : 1) * power;
  }

  /** A tick label without floating-point noise (0.30000000000000004 reads 0.3). */
  const tickLabel = v => String(Number(v.toPrecision(6)));

  function yDomain(values) {
    const finite = values.filter(Number.isFinite);
    if (finite.length === 0) {
      return [0, 1];
    }
    let lo = Math.min(...finite);
    let hi = Math.max(...finite);
    if (lo === hi) {
      const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 0.5;
      lo -= pad;
      hi += pad;
    } else {
      const pad = (hi - lo) * 0.08;
      lo -= pad;
      hi += pad;
    }
    return [lo, hi];
  }

  /**
   * Draws line series into an SVG (viewBox 560x240): axes with ticks, one path per series (class "series",
   * data-points = its number of finite points), a dot per point, dashed horizontal baselines, a dashed line at the
   * best epoch, and a legend.
   */
  function drawChart(chart, { series, totalEpochs, baselines = [], bestEpoch = 0, digits = 3 }) {
    const W = 560, H = 240, left = 56, right = 12, top = 28, bottom = 30;
    const plotW = W - left - right, plotH = H - top - bottom;
    chart.replaceChildren();

    // Short runs show all their planned epochs; long ones grow with the data, so early epochs stay readable.
    const lastEpoch = Math.max(1, ...series.flatMap(s => s.points.map(p => p[0])));
    const xMax = Math.max(2, lastEpoch, (totalEpochs || 0) <= 20 ? (totalEpochs || 0) : 0);
    const [yLo, yHi] = yDomain([...series.flatMap(s => s.points.map(p => p[1])), ...baselines.map(b => b.value)]);
    const x = epoch => left + (epoch - 1) / (xMax - 1) * plotW;
    const y = value => top + (1 - (value - yLo) / (yHi - yLo)) * plotH;

    // Axes and grid.
    const axes = svg('g', { class: 'axes' });
    const yStep = tickStep(yHi - yLo, 5);
    for (let i = Math.ceil(yLo / yStep); i <= Math.floor(yHi / yStep); i++) {
      const v = i * yStep;
      axes.append(svg('line', { class: 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      axes.append(svg('text', { class: 'tick', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, tickLabel(v)));
    }
    const xStep = Math.max(1, Math.round(tickStep(xMax - 1, 8)));
    const xTicks = [1];
    for (let e = xStep; e <= xMax; e += xStep) {
      if (e - 1 >= xStep / 2) {
        xTicks.push(e);
      }
    }
    for (const e of xTicks) {
      axes.append(svg('text', { class: 'tick', x: x(e), y: H - bottom + 16, 'text-anchor': 'middle' }, String(e)));
    }
    axes.append(svg('line', { class: 'axis', x1: left, x2: W - right, y1: H - bottom, y2: H - bottom }));
    axes.append(svg('line', { class: 'axis', x1: left, x2: left, y1: top, y2: H - bottom }));
    axes.append(svg('text', { class: 'axis-label', x: W - right, y: H - 2, 'text-anchor': 'end' }, 'epoch'));
    chart.append(axes);
    if (!series.some(s => s.points.some(p => Number.isFinite(p[1])))) {
      chart.append(svg('text', { class: 'axis-label', x: left + plotW / 2, y: top + plotH / 2, 'text-anchor': 'middle' }, 'no epoch has finished yet'));
    }

    if (bestEpoch > 0) {
      chart.append(svg('line', { class: 'best-epoch', x1: x(bestEpoch), x2: x(bestEpoch), y1: top, y2: H - bottom }));
      const nearRight = x(bestEpoch) > W - right - 40;
      chart.append(svg('text', { class: 'tick best-label', x: x(bestEpoch) + (nearRight ? -3 : 3), y: top + 10, 'text-anchor': nearRight ? 'end' : 'start' }, `best ${bestEpoch}`));
    }

    let legendX = left;
    const legend = svg('g', { class: 'legend' });
    series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      const finite = s.points.filter(p => Number.isFinite(p[1]));
      // A non-finite value (a NaN loss) breaks the line instead of dropping to an axis.
      let d = '';
      let pen = 'M';
      for (const [epoch, value] of s.points) {
        if (Number.isFinite(value)) {
          d += `${pen}${x(epoch).toFixed(2)},${y(value).toFixed(2)}`;
          pen = 'L';
        } else {
          pen = 'M';
        }
      }
      const group = svg('g', { class: 'series-group' });
      group.append(svg('path', { class: 'series', d: d || 'M0,0', stroke: color, 'data-series': s.name, 'data-points': finite.length }));
      for (const [epoch, value] of finite) {
        const dot = svg('circle', { class: 'dot', cx: x(epoch), cy: y(value), r: 3, fill: color });
        dot.append(svg('title', {}, `${s.name}, epoch ${epoch}: ${value.toFixed(digits + 1)}`));
        group.append(dot);
      }
      chart.append(group);
      legend.append(svg('rect', { x: legendX, y: 8, width: 12, height: 4, fill: color }));
      const label = svg('text', { class: 'legend-text', x: legendX + 16, y: 14 }, s.name);
      legend.append(label);
      legendX += 24 + s.name.length * 7;
    });
    baselines.forEach((b, i) => {
      if (!Number.isFinite(b.value)) {
        return;
      }
      const color = COLORS[b.seriesIndex ?? i] || '#666';
      const line = svg('line', { class: 'baseline', x1: left, x2: W - right, y1: y(b.value), y2: y(b.value), stroke: color });
      line.append(svg('title', {}, `${b.name}: ${b.value.toFixed(digits + 1)}`));
      chart.append(line);
    });
    chart.append(legend);
  }

  async function refreshCurves(job) {
    const panel = $('#curves');
    if (!job) {
      panel.hidden = true;
      return;
    }
    const key = `${job.id}|${job.state}|${job.progress && job.progress.epoch}`;
    if (key === state.curveKey) {
      return;
    }
    const result = await api('GET', `/jobs/${encodeURIComponent(job.id)}/metrics`);
    if (!result.ok) {
      show($('#jobs-error'), problemText(result));
      return;
    }
    state.curveKey = key;
    const m = result.data;
    panel.hidden = false;
    panel.dataset.jobId = m.jobId;
    panel.dataset.state = m.state;
    panel.dataset.epochs = String(m.epochs.length);
    $('#curves-title').textContent = `job ${m.jobId} · ${m.state} · ${m.epochs.length} epoch${m.epochs.length === 1 ? '' : 's'}`;

    const totalEpochs = m.epochs.length > 0 ? m.epochs[m.epochs.length - 1].totalEpochs : (job.progress && job.progress.totalEpochs);
    const lossSeries = [{ name: 'train loss', points: m.epochs.map(e => [e.epoch, num(e.trainLoss)]) }];
    drawChart($('#loss-chart'), { series: lossSeries, totalEpochs, digits: 4 });
    // The parts of a combined loss (hybrid) live on scales of their own: their last values, in words.
    const last = m.epochs[m.epochs.length - 1];
    const parts = Object.entries((last && last.lossParts) || {});
    $('#loss-parts').textContent = parts.length > 1
      ? `Epoch ${last.epoch} parts: ${parts.map(([name, value]) => `${name} ${fixed(value)}`).join(' · ')}`
      : '';

    const present = [...new Set(m.epochs.flatMap(e => Object.keys(e.validation || {})))];
    const keys = VALIDATION_KEYS.filter(k => present.includes(k));
    const shown = keys.length > 0 ? keys : present.slice(0, 3);
    const validationSeries = shown.map(k => ({ name: k, points: m.epochs.map(e => [e.epoch, num((e.validation || {})[k])]) }));
    const baselines = m.popularityValidation
      ? shown.map((k, i) => ({ name: `popularity ${k}`, value: num(m.popularityValidation[k]), seriesIndex: i }))
      : [];
    drawChart($('#validation-chart'), { series: validationSeries, totalEpochs, baselines, bestEpoch: m.bestEpoch });

    const table = $('#final-metrics');
    if (m.test) {
      const names = Object.keys(m.test);
      table.replaceChildren(
        el('thead', {}, el('tr', {}, el('th', { text: '' }), ...names.map(n => el('th', { text: n })))),
        el('tbody', {},
          el('tr', {}, el('th', { text: `model (best epoch ${m.bestEpoch}), test` }), ...names.map(n => el('td', { class: 'num', text: fixed(m.test[n]) }))),
          el('tr', {}, el('th', { text: 'popularity, test' }), ...names.map(n => el('td', { class: 'num', text: fixed((m.popularityTest || {})[n]) })))));
      table.hidden = false;
    } else {
      table.hidden = true;
    }
  }

  // ---- models ------------------------------------------------------------------------------------------------------

  async function refreshModels() {
    state.modelsAt = Date.now();
    const result = await api('GET', '/models');
    if (!result.ok) {
      show($('#models-error'), problemText(result));
      return;
    }
    show($('#models-error'), '');
    const rows = result.data.map(model => {
      const serving = model.serving
        ? el('span', { class: 'badge serving-badge', text: 'serving' })
        : el('button', { type: 'button', class: 'small activate', text: 'Serve this' });
      if (!model.serving) {
        serving.addEventListener('click', () => activate(model.jobId, serving));
      }
      const v = model.validation || {};
      const t = model.test || {};
      return el('tr', { class: model.serving ? 'model serving' : 'model', 'data-job-id': model.jobId },
        el('td', {}, el('code', { text: model.jobId }), el('div', { class: 'sub', text: `${model.state}, best epoch ${model.bestEpoch}` })),
        el('td', { text: model.dataset }),
        el('td', {}, serving),
        el('td', { class: 'num', text: fixed(v['NDCG@10']) }),
        el('td', { class: 'num', text: fixed(t['NDCG@10']) }),
        el('td', { class: 'num', text: fixed(t['HR@10']) }),
        el('td', { class: 'num', text: fixed((model.popularityTest || {})['NDCG@10']) }));
    });
    $('#models tbody').replaceChildren(...rows);
    $('#models-empty').hidden = rows.length > 0;
    const serving = result.data.filter(m => m.serving);
    state.serving = Object.fromEntries(serving.map(m => [m.dataset, m.jobId]));
    $('#datasets-list').textContent = serving.length ? serving.map(m => `${m.dataset} (job ${m.jobId})`).join(', ') : 'none yet';
  }

  async function activate(id, button) {
    button.disabled = true;
    try {
      const result = await api('POST', `/models/${encodeURIComponent(id)}/activate`);
      show($('#models-error'), result.ok ? '' : problemText(result));
    } catch (error) {
      show($('#models-error'), `The service did not answer: ${error.message}`);
    }
    await refreshModels().catch(() => {});
    button.disabled = false;
  }

  // ---- ranking -----------------------------------------------------------------------------------------------------

  function setUpRankingForm() {
    const form = $('#ranking-form');
    const formError = $('#ranking-error');
    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form, formError);
      const user = $('#ranking-user').value.trim();
      if (!/^-?\d+$/.test(user)) {
        $('.field-error[data-error-for="userId"]', form).textContent = 'A whole-number MovieLens user id, e.g. 1.';
        return;
      }
      const query = new URLSearchParams();
      const k = $('#ranking-k').value.trim();
      if (k) {
        query.set('k', k);
      }
      const dataset = $('#ranking-dataset').value.trim();
      if (dataset) {
        query.set('dataset', dataset);
      }
      if ($('#ranking-include-seen').checked) {
        query.set('includeSeen', 'true');
      }
      const button = $('#ranking-submit');
      button.disabled = true;
      try {
        const result = await api('GET', `/users/${encodeURIComponent(user)}/ranking?${query}`);
        if (result.ok) {
          renderRanking(result.data);
        } else {
          $('#ranking-result').hidden = true;
          showErrors(form, formError, result);
        }
      } catch (error) {
        show(formError, `The service did not answer: ${error.message}`);
      } finally {
        button.disabled = false;
      }
    });
  }

  function renderRanking(r) {
    $('#ranking-caption').textContent =
      `Top ${r.items.length} for user ${r.userId} on ${r.dataset}, from the model of job ${r.modelJobId}${r.includeSeen ? ', rated movies included' : ', rated movies left out'}.`;
    $('#ranking-list').replaceChildren(...r.items.map(item => el('li', { 'data-item-id': item.itemId },
      el('span', { class: 'title', text: item.title || `(item ${item.itemId})` }),
      el('span', { class: 'movie-id', text: `#${item.itemId}` }),
      el('span', { class: 'score', text: fixed(item.score, 3) }))));
    const result = $('#ranking-result');
    result.dataset.userId = String(r.userId);
    result.hidden = false;
  }

  // ---- similar items and sessions ---------------------------------------------------------------------------------

  function itemRows(items) {
    return items.map(item => el('li', { 'data-item-id': item.itemId },
      el('span', { class: 'title', text: item.title || `(item ${item.itemId})` }),
      el('span', { class: 'movie-id', text: `#${item.itemId}` }),
      el('span', { class: 'score', text: fixed(item.score, 3) })));
  }

  function setUpSimilarForm() {
    const form = $('#similar-form');
    const formError = $('#similar-error');
    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form, formError);
      const item = $('#similar-item').value.trim();
      if (!item) {
        $('.field-error[data-error-for="itemId"]', form).textContent = 'An item id as the data set spells it, e.g. 50.';
        return;
      }
      const query = new URLSearchParams();
      const dataset = $('#similar-dataset').value.trim();
      if (dataset) {
        query.set('dataset', dataset);
      }
      const result = await api('GET', `/items/${encodeURIComponent(item)}/similar?${query}`);
      if (result.ok) {
        $('#similar-list').replaceChildren(...itemRows(result.data.items));
      } else {
        $('#similar-list').replaceChildren();
        showErrors(form, formError, result);
      }
    });
  }

  // Titles typed into the session box are matched against the serving model's catalogue (loaded once per model).
  const catalogues = new Map();
  async function catalogue(dataset) {
    const job = dataset ? (state.serving || {})[dataset] : Object.values(state.serving || {})[0];
    if (!job) {
      return [];
    }
    if (!catalogues.has(job)) {
      const model = await api('GET', `/models/${encodeURIComponent(job)}`);
      const count = model.ok ? model.data.manifest.dataset.items : 0;
      const query = new URLSearchParams({ k: String(count) });
      if (dataset) {
        query.set('dataset', dataset);
      }
      const list = count ? await api('GET', `/items/popular?${query}`) : { ok: false };
      catalogues.set(job, list.ok ? list.data.items : []);
    }
    return catalogues.get(job);
  }

  function setUpSessionForm() {
    const form = $('#session-form');
    const formError = $('#session-error');
    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form, formError);
      const tokens = $('#session-items').value.split(',').map(t => t.trim()).filter(t => t);
      if (!tokens.length) {
        $('.field-error[data-error-for="items"]', form).textContent = 'Type a few item ids or titles, separated by commas.';
        return;
      }
      const dataset = $('#session-dataset').value.trim();
      const items = await catalogue(dataset).catch(() => []);
      const ids = tokens.map(token => {
        if (items.some(i => i.itemId === token)) {
          return token;
        }
        const lower = token.toLowerCase();
        const byTitle = items.find(i => (i.title || '').toLowerCase() === lower) || items.find(i => (i.title || '').toLowerCase().includes(lower));
        return byTitle ? byTitle.itemId : token;
      });
      const body = { items: ids.map(id => ({ id })), k: 10 };
      if (dataset) {
        body.dataset = dataset;
      }
      const result = await api('POST', '/sessions/ranking', body);
      if (result.ok) {
        const unknown = result.data.unknownItems.length ? ` Not in the catalogue: ${result.data.unknownItems.join(', ')}.` : '';
        $('#session-caption').textContent = `Top ${result.data.items.length} on ${result.data.dataset} for a new user who liked ${ids.length - result.data.unknownItems.length} item(s), from the model of job ${result.data.modelJobId}.${unknown}`;
        $('#session-list').replaceChildren(...itemRows(result.data.items));
      } else {
        $('#session-caption').textContent = '';
        $('#session-list').replaceChildren();
        showErrors(form, formError, result);
      }
    });
  }

  // ---- polling -----------------------------------------------------------------------------------------------------

  async function refresh() {
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    clearTimeout(state.timer);
    try {
      const result = await api('GET', '/jobs?pageSize=50');
      if (!result.ok) {
        banner(`GET /jobs failed: ${problemText(result)}`);
      } else {
        banner('');
        const changed = renderJobs(result.data);
        if (changed || Date.now() - state.modelsAt > MODELS_EVERY_MS) {
          await refreshModels();
        }
        const selected = result.data.items.find(j => j.id === state.selectedId);
        if (!selected && state.selectedId) {
          // Not on the first page: ask for it directly.
          const one = await api('GET', `/jobs/${encodeURIComponent(state.selectedId)}`);
          await refreshCurves(one.ok ? one.data : null);
        } else {
          await refreshCurves(selected);
        }
      }
    } catch (error) {
      banner(`The service is not answering (${error.message}); retrying.`);
    } finally {
      state.busy = false;
      state.timer = setTimeout(refresh, state.again ? 0 : state.anyActive ? FAST_POLL_MS : SLOW_POLL_MS);
      state.again = false;
    }
  }

  function refreshSoon() {
    if (state.busy) {
      state.again = true;
    } else {
      refresh();
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    setUpApiKey();
    setUpJobForm();
    setUpRankingForm();
    setUpSimilarForm();
    setUpSessionForm();
    refresh();
  });
})();
