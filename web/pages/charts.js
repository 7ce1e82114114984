// Charts: every kind with its parameters, the service's own SVG with its
// alt text, downloads in SVG, PNG and PDF, and what to paste into a
// document: the image's URL and an HTML snippet with its alt text.
import { get } from '../api.js';
import { busy, chart, field, h, loading, newId, notice, page, quarters, selectField, t } from '../ui.js';

const KINDS = {
	'status-by-pillar': ['as_of'],
	'progress-trend': ['from', 'to', 'pillar'],
	'reporting-heatmap': ['from', 'to'],
	'pillar-burnup': ['pillar', 'from', 'to'],
};
const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

export default async function charts(main, ctx) {
	page(main, t('charts.title'));
	const wait = loading();
	main.append(wait);
	const [plans, now, pillars] = await Promise.all([get('/v1/workplans'), get('/v1/progress'), get('/v1/pillars')]);
	wait.remove();
	const qs = quarters(Math.min(...plans.items.map((w) => w.start_year)), now.as_of).reverse().map((q) => [q, q]);
	const cycleStart = `${now.cycle.split('-')[0]}-Q1`;
	const pillarOpts = pillars.items.map((p) => [String(p.number), `${p.number}. ${p.name}`]);
	const f = {
		kind: selectField(t('charts.kind'), 'kind', Object.keys(KINDS).map((k) => [k, t(`charts.kind.${k}`)]), ctx.query.get('kind') || 'status-by-pillar'),
		as_of: selectField(t('charts.as_of'), 'as_of', qs, now.as_of),
		from: selectField(t('charts.from'), 'from', qs, cycleStart),
		to: selectField(t('charts.to'), 'to', qs, now.as_of),
		pillar: selectField(t('charts.pillar'), 'pillar', pillarOpts, '1'),
	};
	const trendPillar = h('option', { value: '' }, t('charts.all_pillars'));
	const show = h('button', { type: 'submit' }, t('charts.show'));
	const form = h('form', { id: 'chart-form', novalidate: true }, Object.values(f).map((x) => x.el), h('div', { class: 'actions' }, show));
	const out = h('div', { 'aria-live': 'polite' });
	const sync = () => {
		const used = KINDS[f.kind.control.value];
		for (const k of ['as_of', 'from', 'to', 'pillar']) f[k].el.hidden = !used.includes(k);
		// the trend may show every pillar; the burn-up is of one
		if (f.kind.control.value === 'progress-trend') f.pillar.control.prepend(trendPillar);
		else trendPillar.remove();
	};
	f.kind.control.addEventListener('change', sync);
	sync();
	const draw = async () => {
		const kind = f.kind.control.value;
		const params = {};
		for (const k of KINDS[kind]) if (f[k].control.value) params[k] = f[k].control.value;
		out.replaceChildren(loading());
		const fig = await chart(kind, params, t(`charts.kind.${kind}`));
		const q = new URLSearchParams(params).toString();
		const url = `${location.origin}/v1/charts/${kind}.svg?${q}`;
		const alt = fig.querySelector('img')?.alt || '';
		const urlId = newId('url');
		const snipId = newId('snippet');
		const urlBox = h('input', { id: urlId, type: 'text', readonly: true, value: url, class: 'snippet' });
		const snippet = h('textarea', { id: snipId, readonly: true, rows: '3', class: 'snippet', value: `<img src="${esc(url)}" alt="${esc(alt)}">` });
		const said = h('div', { role: 'status' });
		const copy = (label, box) => {
			const b = h('button', { type: 'button', class: 'secondary' }, label);
			b.addEventListener('click', async () => {
				box.select();
				try {
					await navigator.clipboard.writeText(box.value);
					said.replaceChildren(notice(t('charts.copied')));
				} catch {
					said.replaceChildren(notice(t('charts.copy_failed'), false));
				}
			});
			return b;
		};
		out.replaceChildren(fig,
			h('h2', {}, t('charts.download')),
			h('ul', {}, ['svg', 'png', 'pdf'].map((fmt) => h('li', {}, h('a', { href: `/v1/charts/${kind}.${fmt}?${q}`, download: `${kind}.${fmt}` }, t(`charts.format.${fmt}`))))),
			field(t('charts.url'), urlId, urlBox), h('div', { class: 'actions' }, copy(t('charts.copy_url'), urlBox)),
			field(t('charts.snippet'), snipId, snippet), h('div', { class: 'actions' }, copy(t('charts.copy_snippet'), snippet)),
			said);
	};
	form.addEventListener('submit', busy(show, draw));
	main.append(form, out);
	await draw();
}
