/* imgdex page: search, results grid, detail view with region boxes.
 * Everything that comes from the catalogue (file names, labels, OCR text,
 * captions) is put into the page with textContent or attribute setters,
 * never parsed as HTML; the server's Content-Security-Policy forbids inline
 * script as a second line of defence. */
'use strict';

const $ = (id) => document.getElementById(id);
const state = { results: [], sel: -1, open: -1, query: '', detail: null };

/* el('div', {class: 'x', title: t}, child, 'text', ...) — text children are text nodes. */
function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, String(v));
  }
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    n.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return n;
}

const baseName = (p) => String(p || '').split('/').pop();
const fmt = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '');

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = { error: `HTTP ${r.status}` }; }
  return { ok: r.ok, status: r.status, body };
}

/* ---- search -------------------------------------------------------------- */

function showParseError(q, body) {
  const box = $('qerr');
  $('qerr-text').textContent = q;
  const col = Number.isInteger(body.column) ? Math.max(1, Math.min(body.column, q.length + 1)) : 0;
  $('qerr-caret').textContent = col ? ' '.repeat(col - 1) + '^' : '';
  $('qerr-msg').textContent = body.error || 'cannot parse the query';
  box.hidden = false;
  $('q').classList.add('bad');
}

function clearParseError() {
  $('qerr').hidden = true;
  $('q').classList.remove('bad');
}

async function search(q, push = true) {
  q = q.trim();
  state.query = q;
  if (push) history.replaceState(null, '', q ? '#q=' + encodeURIComponent(q) : '#');
  if (!q) { render([]); $('status').textContent = ''; return; }
  $('status').textContent = 'Searching…';
  const { ok, status, body } = await getJSON('/api/search?k=60&q=' + encodeURIComponent(q));
  if (q !== state.query) return;                 /* a newer search is on its way */
  if (!ok) {
    render([]);
    if (status === 400 && body && body.error) showParseError(q, body);
    $('status').textContent = status === 400 ? '' : (body && body.error) || `Search failed (HTTP ${status})`;
    return;
  }
  clearParseError();
  state.results = body.results || [];
  const n = state.results.length;
  $('status').textContent = `${n} result${n === 1 ? '' : 's'}` + (body.ms !== undefined ? ` in ${fmt(body.ms, 1)} ms` : '');
  render(state.results, body.message);
}

/* "more like this": the images nearest one image in embedding space. */
async function similar(id, push = true) {
  closeDetail();
  const q = `similar:${id}`;
  state.query = q;
  if (push) history.replaceState(null, '', '#similar=' + id);
  $('status').textContent = 'Searching…';
  const { ok, status, body } = await getJSON(`/api/similar/${id}?k=60`);
  if (q !== state.query) return;
  if (!ok) {
    render([]);
    $('status').textContent = (body && body.error) || `Similar images failed (HTTP ${status})`;
    return;
  }
  clearParseError();
  state.results = body.results || [];
  $('status').textContent = `${state.results.length} images like #${id}` +
    (body.ms !== undefined ? ` in ${fmt(body.ms, 1)} ms` : '');
  render(state.results);
}

function render(results, message) {
  const grid = $('grid');
  grid.replaceChildren();
  grid.dataset.q = state.query;   /* which query these results answer (tests wait on it) */
  state.sel = -1;
  if (!results.length) {
    const text = message === 'nothing matches well' ? 'Nothing matches this query well.' : 'No image matches this query.';
    if (state.query) grid.append(el('li', { class: 'empty' }, text));
    return;
  }
  results.forEach((h, i) => {
    const name = baseName(h.path);
    const card = el('li', {
      class: 'card', tabindex: 0, role: 'button', 'aria-label': `${name}, score ${fmt(h.score)}`,
      dataset: { i: String(i), id: String(h.id) },
      onclick: () => openDetail(i), onfocus: () => select(i, false),
    },
      el('img', { class: 'thumb', src: `/thumb/${h.id}?size=256`, alt: name, loading: 'lazy', decoding: 'async' }),
      el('span', { class: 'rank' }, String(h.rank || i + 1)),
      el('div', { class: 'meta' }, el('span', { class: 'name', title: h.path }, name),
        el('span', { class: 'score', title: 'score' }, fmt(h.score))));
    grid.append(card);
  });
}

function select(i, focus = true) {
  const cards = $('grid').querySelectorAll('.card');
  if (!cards.length) return;
  i = Math.max(0, Math.min(i, cards.length - 1));
  cards.forEach((c) => c.classList.remove('sel'));
  cards[i].classList.add('sel');
  state.sel = i;
  if (focus) { cards[i].focus({ preventScroll: true }); cards[i].scrollIntoView({ block: 'nearest' }); }
}

function columns() {
  const cards = $('grid').querySelectorAll('.card');
  if (cards.length < 2) return 1;
  const top = cards[0].offsetTop;
  let n = 0;
  for (const c of cards) { if (c.offsetTop !== top) break; n++; }
  return Math.max(1, n);
}

/* ---- detail -------------------------------------------------------------- */

/* Region indices the match used, from the result's `why`. */
function matchedRegions(why) {
  const hit = new Set(), neg = new Set();
  if (!why) return { hit, neg };
  for (const p of why.phrases || []) if (Number.isInteger(p.region)) hit.add(p.region);
  for (const r of why.relations || []) for (const i of r.regions || []) if (Number.isInteger(i)) hit.add(i);
  for (const n of why.negated || []) if (Number.isInteger(n.region)) neg.add(n.region);
  return { hit, neg };
}

function whyLines(h) {
  const w = h.why || {}, out = [];
  for (const p of w.phrases || []) {
    let s = `“${p.noun || p.phrase}”: `;
    if (Number.isInteger(p.region)) s += `region ${p.region} ${p.label || ''} (detector ${fmt(p.detector)})`;
    else if (p.matched) s += `in the ${p.matched}`;
    else s += 'not found';
    for (const a of p.attrs || []) {
      const k = Object.keys(a).find((x) => x !== 'agree');
      if (k) s += `, ${k} ${a[k]} ${fmt(a.agree)}`;
    }
    if (p.count) s += `, count ${p.count.found}${p.count.want ? ' (want ' + p.count.want + ')' : ''}`;
    if (p.score !== undefined) s += ` → ${fmt(p.score, 3)}`;
    out.push(s);
  }
  for (const r of w.relations || []) {
    out.push(`${String(r.rel || '').replace(/_/g, ' ')}: ` +
      (r.regions ? `regions ${r.regions.join(', ')} hold ${fmt(r.holds)}` : 'no pair of regions') +
      (r.score !== undefined ? ` → ${fmt(r.score, 3)}` : ''));
  }
  if (w.text) out.push(`words: ${(w.text.matched || []).join(' ')} → ${fmt(w.text.score, 3)}`);
  for (const o of w.ocr || []) out.push(`text “${o.text}”${o.negated ? ' (must be absent)' : ''}: ${(o.matched || []).join(' ')} → ${fmt(o.score, 3)}`);
  for (const n of w.negated || []) out.push(`without “${n.noun}”: region ${n.region} ${n.label || ''} present, penalty ${fmt(n.penalty, 3)}`);
  if (w.clip !== undefined) out.push(`CLIP similarity ${fmt(w.clip, 3)}`);
  if (w.tags) {
    for (const t of w.tags.words || []) out.push(`tag ${t.tag} ${fmt(t.p)}`);
  }
  if (w.embedding) {
    out.push(w.embedding.score !== undefined ? `embedding ${fmt(w.embedding.score)} (cosine ${fmt(w.embedding.cosine, 3)})`
      : `embedding cosine ${fmt(w.embedding.cosine, 3)}`);
  }
  return out;
}

function row(dl, k, v) {
  if (v === undefined || v === null || v === '') return;
  dl.append(el('dt', null, k), el('dd', null, v));
}

const PALETTE = new Set(['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown', 'black', 'white', 'grey', 'gray']);

function fill(id, nodes, emptyText) {
  const n = $(id);
  n.replaceChildren(...nodes);
  if (!nodes.length) n.append(el('span', { class: 'none' }, emptyText));
}

async function openDetail(i) {
  const h = state.results[i];
  if (!h) return;
  state.open = i;
  select(i, false);
  const d = $('detail');
  d.hidden = false;
  $('d-name').textContent = baseName(h.path);
  $('d-name').title = h.path;
  $('d-orig').href = `/file/${h.id}`;
  $('d-img').alt = baseName(h.path);
  $('d-img').src = `/thumb/${h.id}?size=1024`;
  $('d-boxes').replaceChildren();
  const why = whyLines(h);
  fill('d-why', why.map((s) => el('li', null, s)), 'not from a search');
  if (why.length) $('d-why').append(el('li', { class: 'total' }, `score ${fmt(h.score, 3)}`));
  $('d-close').focus();
  const { ok, body } = await getJSON(`/api/images/${h.id}`);
  if (state.open !== i) return;
  if (!ok) { fill('d-caption', [], body.error || 'cannot load the description'); return; }
  state.detail = body;
  showDescription(h, body);
}

function showDescription(h, info) {
  const ds = info.description || {};
  const regions = ds.regions || [];
  const { hit, neg } = matchedRegions(h.why);
  const boxes = $('d-boxes');
  boxes.replaceChildren();
  regions.forEach((r, idx) => {
    if (idx === 0 || r.kind === 'image' || !Array.isArray(r.box)) return;
    const [x0, y0, x1, y1] = r.box.map(Number);
    const cls = ['box', r.kind, hit.has(idx) ? 'hit' : '', neg.has(idx) ? 'neg' : ''].join(' ');
    const b = el('div', { class: cls, dataset: { idx: String(idx) }, title: `${r.label} ${fmt(r.score)}` },
      el('span', { class: 'lbl' }, `${r.label} ${fmt(r.score)}`));
    b.style.left = `${Math.max(0, x0) * 100}%`;
    b.style.top = `${Math.max(0, y0) * 100}%`;
    b.style.width = `${Math.max(0, Math.min(1, x1) - Math.max(0, x0)) * 100}%`;
    b.style.height = `${Math.max(0, Math.min(1, y1) - Math.max(0, y0)) * 100}%`;
    const m = maskCanvas(r.mask, idx);
    if (m) b.prepend(m);
    boxes.append(b);
  });
  boxes.classList.toggle('only-hits', !$('d-all').checked && hit.size > 0);

  const cap = [ds.caption, ds.clip_caption].filter(Boolean);
  fill('d-caption', cap.map((c, k) => el('span', null, (k ? ' · ' : '') + c)), 'no caption');
  fill('d-tags', (ds.tags || []).map((t) => el('span', { class: 'chip', title: t.group },
    t.label, ' ', el('small', null, fmt(t.score)))), 'no tags');
  const whole = regions[0] || {};
  fill('d-colours', (whole.colours || []).map((c) => {
    const sw = el('i');
    if (PALETTE.has(c.name)) sw.style.background = c.name;
    return el('span', { class: 'sw' }, sw, `${c.name} ${Math.round((c.share || 0) * 100)}%`);
  }), 'none recorded');
  const words = (ds.words || []).map((w) => w.text).join(' ');
  fill('d-ocr', words ? [words] : [], 'no text found');
  fill('d-regions', regions.slice(1).map((r, k) => {
    const idx = k + 1;
    const li = el('li', { class: hit.has(idx) ? 'hit' : '', value: idx },
      `${r.label || '(unnamed)'} `, el('small', null, (r.kind === 'segment' ? 'segment · ' : '') +
        `${fmt(r.score)} · ${r.position || ''} · ${r.size || ''}` +
        ((r.colours || []).length ? ' · ' + r.colours.map((c) => c.name).join(' ') : '') +
        (r.attrs ? ' · ' + r.attrs : '') + (r.caption ? ` · “${r.caption}”` : '')));
    li.addEventListener('mouseenter', () => hover(idx, true));
    li.addEventListener('mouseleave', () => hover(idx, false));
    return li;
  }), 'no regions');
  const dl = $('d-exif');
  dl.replaceChildren();
  row(dl, 'file', info.path);
  row(dl, 'size', `${info.width}×${info.height} ${info.format || ''}, ${Math.round((info.size || 0) / 1024)} KiB`);
  row(dl, 'taken', info.taken_at);
  row(dl, 'camera', info.camera);
  if (info.gps) row(dl, 'GPS', `${fmt(info.gps.lat, 5)}, ${fmt(info.gps.lon, 5)}`);
  row(dl, 'scene', ds.scene);
  row(dl, 'indexed', info.indexed_at);
}

/* A region's mask (runs over a w×h grid laid on its box, "out" first; the
 * schema of `imgdex show --json`) as a translucent overlay filling the box. */
function maskCanvas(mask, idx) {
  if (!mask || !Array.isArray(mask.runs) || !(mask.w > 0) || !(mask.h > 0) || mask.w * mask.h > 1 << 22) return null;
  const c = el('canvas', { class: 'mask' });
  c.width = mask.w;
  c.height = mask.h;
  const ctx = c.getContext && c.getContext('2d');
  if (!ctx) return c;
  const img = ctx.createImageData(mask.w, mask.h);
  const hue = (idx * 67) % 360;   /* neighbouring segments in different colours */
  const [r, g, b] = hsl(hue, 0.8, 0.5);
  let at = 0, on = false;
  for (const run of mask.runs) {
    const end = Math.min(at + Math.max(0, run | 0), mask.w * mask.h);
    if (on) for (let i = at; i < end; i++) img.data.set([r, g, b, 110], i * 4);
    at = end;
    on = !on;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

function hsl(h, s, l) {
  const f = (n) => {
    const k = (n + h / 30) % 12, a = s * Math.min(l, 1 - l);
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

function hover(idx, on) {
  const b = $('d-boxes').querySelector(`.box[data-idx="${idx}"]`);
  if (b) b.classList.toggle('hover', on);
}

function closeDetail() {
  $('detail').hidden = true;
  state.open = -1;
  $('d-img').removeAttribute('src');
  select(state.sel < 0 ? 0 : state.sel);
}

/* ---- wiring -------------------------------------------------------------- */

function onKey(e) {
  const inInput = e.target === $('q');
  const detailOpen = !$('detail').hidden;
  if (detailOpen) {
    if (e.key === 'Escape') { e.preventDefault(); closeDetail(); }
    else if (e.key === 'ArrowRight' && state.open < state.results.length - 1) { e.preventDefault(); openDetail(state.open + 1); }
    else if (e.key === 'ArrowLeft' && state.open > 0) { e.preventDefault(); openDetail(state.open - 1); }
    else if (e.key === 'b' && e.target.tagName !== 'INPUT') { $('d-all').click(); }
    else if (e.key === 'm' && e.target.tagName !== 'INPUT') { $('d-similar').click(); }
    return;
  }
  if (e.key === '/' && !inInput) { e.preventDefault(); $('q').focus(); $('q').select(); return; }
  if (inInput) {
    if (e.key === 'ArrowDown' && state.results.length) { e.preventDefault(); select(0); }
    return;
  }
  if (!state.results.length) return;
  const cols = columns(), cur = state.sel < 0 ? 0 : state.sel;
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
  if (e.key in moves) {
    e.preventDefault();
    if (e.key === 'ArrowUp' && cur - cols < 0) { $('q').focus(); return; }
    select(cur + moves[e.key]);
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    openDetail(cur);
  }
}

async function showStats() {
  const { ok, body } = await getJSON('/api/stats');
  if (ok) $('stats').textContent = `${body.images} images · ${body.regions} regions`;
}

function fromHash() {
  const m = location.hash.match(/^#q=(.*)$/);
  if (m) return decodeURIComponent(m[1]);
  const s = location.hash.match(/^#similar=(\d+)$/);
  return s ? `similar:${s[1]}` : '';
}

function go(q, push) {
  const s = q.match(/^similar:(\d+)$/);
  if (s) similar(Number(s[1]), push);
  else search(q, push);
}

document.addEventListener('DOMContentLoaded', () => {
  $('search').addEventListener('submit', (e) => { e.preventDefault(); search($('q').value); });
  $('q').addEventListener('input', () => { if (!$('qerr').hidden) clearParseError(); });
  for (const b of document.querySelectorAll('.ex')) {
    b.addEventListener('click', () => { $('q').value = b.dataset.q; search(b.dataset.q); });
  }
  $('d-close').addEventListener('click', closeDetail);
  $('d-similar').addEventListener('click', () => {
    const h = state.results[state.open];
    if (h) similar(h.id);
  });
  $('d-prev').addEventListener('click', () => state.open > 0 && openDetail(state.open - 1));
  $('d-next').addEventListener('click', () => state.open < state.results.length - 1 && openDetail(state.open + 1));
  $('d-all').addEventListener('change', () => {
    const h = state.results[state.open];
    const { hit } = matchedRegions(h && h.why);
    $('d-boxes').classList.toggle('only-hits', !$('d-all').checked && hit.size > 0);
  });
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', () => { const q = fromHash(); if (q !== state.query) { $('q').value = q; go(q, false); } });
  showStats();
  const q = fromHash();
  if (q) { $('q').value = q; go(q, false); } else { $('q').focus(); }
});

/* ---- duplicates (#duplicates, #duplicates-near) ---------------------------- */

function dupMember(m) {
  const name = baseName(m.path);
  return el('figure', { class: 'dmember' + (m.keeper ? ' keep' : ''), dataset: { id: String(m.id) } },
    el('a', { href: `/file/${m.id}`, target: '_blank', rel: 'noopener noreferrer' },
      el('img', { src: `/thumb/${m.id}?size=256`, alt: name, loading: 'lazy', decoding: 'async' })),
    el('figcaption', {},
      el('span', { class: 'dname', title: m.path }, name),
      el('span', { class: 'ddim' }, `${m.width}×${m.height}`),
      el('span', { class: 'dwhy' }, m.keeper ? 'suggested keeper' : m.reason)));
}

async function showDuplicates() {
  const near = location.hash === '#duplicates-near';
  const box = $('dups');
  $('grid').hidden = true;
  box.hidden = false;
  box.replaceChildren();
  $('status').textContent = 'Looking for duplicates…';
  const { ok, status, body } = await getJSON('/api/duplicates' + (near ? '?near=1' : ''));
  if (!ok) { $('status').textContent = (body && body.error) || `HTTP ${status}`; return; }
  const groups = body.groups || [];
  $('status').textContent = `${groups.length} group${groups.length === 1 ? '' : 's'} of ${near ? 'near-' : ''}` +
    `duplicates among ${body.images} images` + (body.missing ? ` (${body.missing} not fingerprinted yet)` : '');
  box.dataset.groups = String(groups.length);   /* tests wait on it */
  box.replaceChildren(
    el('p', { class: 'hint' },
      near ? el('a', { href: '#duplicates' }, 'the same picture only')
           : el('a', { href: '#duplicates-near' }, 'with near-duplicates (burst shots)'),
      ' · imgdex never deletes anything: the keeper is only a suggestion.'),
    ...groups.map((g, i) => el('section', { class: 'dgroup', 'aria-label': `group ${i + 1}` }, ...g.members.map(dupMember))));
}

function duplicatesRoute() {
  if (location.hash.startsWith('#duplicates')) { showDuplicates(); return; }
  $('dups').hidden = true;
  $('grid').hidden = false;
}

window.addEventListener('hashchange', duplicatesRoute);
document.addEventListener('DOMContentLoaded', () => {
  $('search').addEventListener('submit', () => { $('dups').hidden = true; $('grid').hidden = false; });
  duplicatesRoute();
});
