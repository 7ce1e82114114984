import { get, imageData, usingToken } from './api.js';

// What every page is made of: the language catalogue (t), numbers and dates
// through Intl, an element builder (h) that never parses HTML, tables,
// charts, and the form conventions of SPEC 12: a label for every field,
// problems shown next to their field and in a focused summary.

const LANGS = ['en', 'fr'];
const RTL = ['ar', 'fa', 'he', 'ur'];
let lang = 'en';
let catalogue = {};

// The language to show: the member's setting, else the browser's own
// preference (what it sends as Accept-Language), else English.
export function pickLanguage(setting) {
	if (LANGS.includes(setting)) return setting;
	for (const l of navigator.languages || [navigator.language]) {
		const base = String(l).toLowerCase().split('-')[0];
		if (LANGS.includes(base)) return base;
	}
	return 'en';
}

export async function loadLanguage(want) {
	const l = LANGS.includes(want) ? want : 'en';
	if (l === lang && catalogue['app.name']) return;
	const r = await fetch(new URL(`./i18n/${l}.json`, import.meta.url));
	catalogue = await r.json();
	lang = l;
	document.documentElement.lang = l;
	document.documentElement.dir = RTL.includes(l) ? 'rtl' : 'ltr';
}

export const language = () => lang;

// The catalogue's text for key, with {name} replaced from vars.
export function t(key, vars) {
	const s = catalogue[key] ?? key;
	return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

export const num = (n, digits = 1) =>
	new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
export const when = (ts) =>
	ts ? new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(ts)) + ' UTC' : '—';
export const day = (d) =>
	d ? new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(d + 'T00:00:00Z')) : '—';

// h('a', {href: '/'}, 'text', child...): attributes set one by one
// ('on...' are listeners; false and null leave the attribute out).
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else if (k === 'class') el.className = v;
		else if (k === 'value' || k === 'checked') el[k] = v;
		else el.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false) continue;
		el.append(c instanceof Node ? c : String(c));
	}
	return el;
}

let uid = 0;
export const newId = (p) => `${p}-${++uid}`;

// The static text of the shell (data-t, data-t-label), in the language.
export function translateStatic(root = document) {
	for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
	for (const el of root.querySelectorAll('[data-t-label]')) el.setAttribute('aria-label', t(el.dataset.tLabel));
}

// A page: main emptied, its h1 (focusable, so a route change can move
// focus there) and the document's title.
export function page(main, title) {
	main.replaceChildren();
	const h1 = h('h1', { tabindex: '-1' }, title);
	main.append(h1);
	document.title = `${title} — ${t('app.name')}`;
	return h1;
}

export const loading = () => h('p', { class: 'loading', role: 'status' }, t('loading'));
export const empty = (key) => h('p', { class: 'empty' }, t(key));

// A problem answer as one paragraph (for reads that failed).
export function failure(problem) {
	return h('p', { class: 'note', role: 'alert' }, problemText(problem));
}

export function problemText(p) {
	if (!p || !p.status) return t('error.network');
	if (p.status === 403 && !String(p.type).endsWith('/csrf')) return t('error.forbidden');
	if (p.status === 404) return t('error.not_found');
	return p.detail || p.title || t('error.generic');
}

// A table: caption, column heads ({text, num}), rows of cells; the first
// cell of a row heads it. Wrapped in a focusable region so a narrow
// screen can scroll it with the keyboard.
export function table(caption, heads, rows) {
	const head = h('tr', {}, heads.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.text ?? c)));
	const body = rows.map((r) =>
		h('tr', {}, r.map((c, i) => {
			const isNum = heads[i] && heads[i].num;
			return h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, class: isNum ? 'num' : null }, c);
		})));
	return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' },
		h('table', {}, h('caption', {}, caption), h('thead', {}, head), h('tbody', {}, body)));
}

export const statusBadge = (s) => h('span', { class: `badge status-${s}` }, t(`status.${s}`));
export const STATUSES = ['not_started', 'on_track', 'at_risk', 'delayed', 'completed', 'cancelled'];

// "2021-Q1" ... to, oldest first, from the start of year 'from'.
export function quarters(fromYear, to) {
	const out = [];
	const [ty, tq] = to.split('-Q').map(Number);
	for (let y = fromYear; y <= ty; y++)
		for (let q = 1; q <= 4 && (y < ty || q <= tq); q++) out.push(`${y}-Q${q}`);
	return out;
}

// A <select> with a visible label; options are [value, text] pairs.
export function selectField(label, name, options, value, attrs = {}) {
	const id = newId(name);
	const sel = h('select', { id, name, 'data-field': name, ...attrs },
		options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
	return { el: field(label, id, sel), control: sel };
}

// One field: label, optional hint, the place of its error, the control.
export function field(label, id, control, hint) {
	const parts = [h('label', { for: id }, label)];
	if (hint) {
		const hid = `${id}-hint`;
		parts.push(h('p', { class: 'hint', id: hid }, hint));
		control.setAttribute('aria-describedby', hid);
	}
	return h('div', { class: 'field' }, parts, control);
}

// A chart of the service: its SVG with the alt text of its .json twin,
// and the caption. While the worker draws it the API answers 202: the
// image is asked for again a few times.
export async function chart(kind, params, caption) {
	const q = new URLSearchParams(params).toString();
	const fig = h('figure', { class: 'chart' });
	const status = h('p', { class: 'loading', role: 'status' }, t('chart.loading'));
	fig.append(status);
	let alt = '';
	try {
		alt = chartAlt(await get(`/v1/charts/${kind}.json?${q}`));
	} catch (p) {
		status.replaceWith(failure(p));
		return fig;
	}
	const url = `/v1/charts/${kind}.svg?${q}`;
	const img = h('img', { alt, width: '800', height: '450' });
	let tries = 0;
	img.addEventListener('load', () => status.remove());
	if (usingToken()) {
		try {
			img.src = await imageData(url);
		} catch (p) {
			status.replaceWith(failure(p));
		}
		fig.append(img, h('figcaption', {}, caption));
		return fig;
	}
	img.src = url;
	img.addEventListener('error', () => {
		if (++tries > 10) {
			status.textContent = t('chart.failed');
			return;
		}
		setTimeout(() => {
			img.removeAttribute('src');
			img.src = url;
		}, 2000);
	});
	fig.append(img, h('figcaption', {}, caption));
	return fig;
}

// printf's %.0f: halves to the even neighbour, as the API's own alt text.
const whole = (x) => {
	const f = Math.floor(x);
	return x - f === 0.5 ? (f % 2 ? f + 1 : f) : Math.round(x);
};

// A chart's alt text in the page's language, worded from the data of its
// .json twin as the API words its English "alt" (api/h_charts.c): what a
// screen-reader user would want instead of the picture.
export function chartAlt({ kind, params, data, alt }) {
	const parts = [];
	const pillar = (p) => t('chart.alt.pillar', { number: p.number, name: p.name });
	if (kind === 'status-by-pillar') {
		parts.push(t('chart.alt.status', { cycle: data.cycle, period: data.period }));
		for (const p of data.pillars || []) {
			if (!p.actions) {
				parts.push(`${pillar(p)} ${t('chart.alt.no_actions')}`);
				continue;
			}
			const counts = STATUSES.filter((s) => p.by_status?.[s]).map((s) => `${p.by_status[s]} ${t(`report.status.${s}`)}`);
			parts.push(`${pillar(p)} ${t(p.actions === 1 ? 'chart.alt.action' : 'chart.alt.actions', { n: p.actions })}${counts.length ? ` (${counts.join(', ')})` : ''}.`);
		}
	} else if (kind === 'pillar-burnup') {
		const last = data.points?.[data.points.length - 1];
		parts.push(t('chart.alt.burnup', { number: data.pillar.number, name: data.pillar.name, from: params.from, to: params.to }));
		if (last) parts.push(t('chart.alt.burnup_last', { period: last.period, completed: last.completed, planned: last.planned }));
	} else if (kind === 'progress-trend' || kind === 'reporting-heatmap') {
		const trend = kind === 'progress-trend';
		parts.push(t(trend ? 'chart.alt.trend' : 'chart.alt.heatmap', { from: params.from, to: params.to }));
		for (const p of (trend ? data.series : data.pillars) || []) {
			let lo = null;
			let hi = null;
			(p.values || []).forEach((v, k) => {
				if (typeof v !== 'number') return;
				if (lo === null || v < lo.v) lo = { v, at: data.periods[k] };
				if (hi === null || v > hi.v) hi = { v, at: data.periods[k] };
			});
			const pct = (v) => num(whole(trend ? v : v * 100), 0);
			parts.push(`${pillar(p)} ${lo ? t('chart.alt.range', { lo: pct(lo.v), lo_at: lo.at, hi: pct(hi.v), hi_at: hi.at })
				: t(trend ? 'chart.alt.no_actions' : 'chart.alt.nothing_expected')}`);
		}
	} else {
		return alt;
	}
	return parts.join(' ');
}

// A field error in the page's language: the API names the rule broken
// (errors[].code, its figures in params) and the catalogue words it
// (problem.<code>); a rule without a code, or one the catalogue does not
// know, reads as the API's English message.
export function fieldMessage(e) {
	const key = `problem.${e.code}`;
	return e.code && key in catalogue ? t(key, e.params || {}) : e.message;
}

// Shows a problem answer on a form: each errors[] entry next to the
// control whose data-field is its field (or the start of it: evidence[0].url
// belongs to evidence), and a summary at the top that takes focus.
export function showProblem(form, problem) {
	clearProblem(form);
	const items = [];
	for (const e of (problem && problem.errors) || []) {
		const name = String(e.field || '');
		const message = fieldMessage(e);
		const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`) ||
			form.querySelector(`[data-field="${CSS.escape(name.split(/[.[]/)[0])}"]`);
		const label = control ? labelOf(control) : name;
		if (control) {
			const box = control.closest('.field') || control.parentElement;
			const eid = `${control.id}-error`;
			let p = box.querySelector(`#${CSS.escape(eid)}`);
			if (!p) {
				p = h('p', { class: 'error', id: eid });
				control.before(p);
			}
			p.append(h('span', { class: 'visually-hidden' }, t('error.prefix')), message, ' ');
			box.classList.add('invalid');
			control.setAttribute('aria-invalid', 'true');
			const by = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
			if (!by.includes(eid)) control.setAttribute('aria-describedby', [...by, eid].join(' '));
			items.push(h('li', {}, h('a', { href: `#${control.id}`, onclick: (ev) => { ev.preventDefault(); control.focus(); } }, `${label}: ${message}`)));
		} else {
			items.push(h('li', {}, `${label}: ${message}`));
		}
	}
	if (!items.length) items.push(h('li', {}, problemText(problem)));
	const summary = h('div', { class: 'summary', tabindex: '-1', role: 'alert', 'aria-labelledby': `${form.id}-summary` },
		h('h2', { id: `${form.id}-summary` }, t('error.summary')), h('ul', {}, items));
	form.prepend(summary);
	summary.focus();
}

export function clearProblem(form) {
	form.querySelector('.summary')?.remove();
	for (const p of form.querySelectorAll('p.error')) p.remove();
	for (const b of form.querySelectorAll('.invalid')) b.classList.remove('invalid');
	for (const c of form.querySelectorAll('[aria-invalid]')) {
		c.removeAttribute('aria-invalid');
		const by = (c.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
		if (by.length) c.setAttribute('aria-describedby', by.join(' '));
		else c.removeAttribute('aria-describedby');
	}
}

function labelOf(control) {
	const l = control.id && document.querySelector(`label[for="${CSS.escape(control.id)}"]`);
	if (l) return l.textContent;
	const legend = control.closest('fieldset')?.querySelector('legend');
	return legend ? legend.textContent : control.name;
}

// A handler that runs fn once at a time: the button says it is busy
// (aria-disabled) but keeps the keyboard focus, which disabling would drop.
export function busy(button, fn) {
	return async (ev) => {
		ev?.preventDefault();
		if (button.getAttribute('aria-disabled') === 'true') return;
		button.setAttribute('aria-disabled', 'true');
		try {
			await fn();
		} finally {
			button.removeAttribute('aria-disabled');
		}
	};
}

// A polite message after an action (status role: read out, not focused).
export function notice(text, ok = true) {
	return h('p', { class: ok ? 'note ok' : 'note', role: 'status' }, text);
}
