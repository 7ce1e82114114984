// Overview: a quarter's totals, the status-by-pillar chart, the progress of
// each pillar, reporting compliance, and the stale actions (loaded when
// asked for, to keep the first load light).
import { all, get } from '../api.js';
import { chart, day, empty, failure, h, loading, num, page, quarters, selectField, table, t } from '../ui.js';

export default async function overview(main, ctx) {
	page(main, t('overview.title'));
	const wait = loading();
	main.append(wait);
	const asked = ctx.query.get('quarter');
	const [plans, progress] = await Promise.all([
		get('/v1/workplans'),
		get(`/v1/progress${asked ? `?as_of=${encodeURIComponent(asked)}` : ''}`),
	]);
	const current = asked ? (await get('/v1/progress')).as_of : progress.as_of;
	const P = progress.as_of;
	wait.remove();

	const start = Math.min(...plans.items.map((w) => w.start_year));
	const q = selectField(t('overview.quarter'), 'quarter', quarters(start, current).reverse().map((x) => [x, x]), P);
	q.control.addEventListener('change', () => ctx.navigate(`/?quarter=${encodeURIComponent(q.control.value)}`));
	main.append(h('form', { class: 'quarter', onsubmit: (e) => e.preventDefault() }, q.el));

	const T = progress.totals;
	main.append(h('h2', {}, t('overview.totals', { quarter: P, cycle: progress.cycle })),
		h('dl', { class: 'totals' },
			[['overview.actions', num(T.actions, 0)], ['overview.mean', `${num(T.mean_percent)} %`],
				['overview.completed', num(T.completed, 0)], ['overview.stale', num(T.stale, 0)]]
				.map(([k, v]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, v)))));

	main.append(h('h2', {}, t('overview.chart')));
	const fig = h('div', {});
	main.append(fig);
	chart('status-by-pillar', { as_of: P, cycle: progress.cycle }, t('overview.chart_caption', { quarter: P })).then((f) => fig.replaceWith(f));

	main.append(h('h2', {}, t('overview.pillars')));
	main.append(table(t('overview.pillars_caption', { quarter: P }),
		[t('pillar.pillar'), { text: t('overview.actions'), num: true }, { text: t('status.on_track'), num: true },
			{ text: t('status.at_risk'), num: true }, { text: t('status.delayed'), num: true },
			{ text: t('status.completed'), num: true }, { text: t('overview.mean'), num: true },
			{ text: t('overview.stale'), num: true }, t('overview.last_update')],
		progress.pillars.map((p) => [
			h('a', { href: `/pillars/${p.number}` }, `${p.number}. ${p.name}`), num(p.actions, 0),
			num(p.by_status.on_track, 0), num(p.by_status.at_risk, 0), num(p.by_status.delayed, 0),
			num(p.by_status.completed, 0), `${num(p.mean_percent)} %`, num(p.stale, 0),
			p.last_update_at ? new Date(p.last_update_at).toISOString().slice(0, 10) : '—'])));

	main.append(h('h2', {}, t('overview.reporting')));
	const rep = h('div', {}, loading());
	main.append(rep);
	get(`/v1/reporting?period=${encodeURIComponent(P)}`).then((r) => {
		const names = Object.fromEntries(progress.pillars.map((p) => [p.number, p.name]));
		rep.replaceChildren(h('p', {}, t('reporting.deadline', { date: day(r.deadline) })),
			table(t('overview.reporting_caption', { quarter: P }),
				[t('pillar.pillar'), { text: t('reporting.expected'), num: true }, { text: t('reporting.reported'), num: true },
					{ text: t('reporting.on_time'), num: true }, { text: t('reporting.missing'), num: true }],
				r.pillars.map((p) => [`${p.number}. ${names[p.number] || ''}`, num(p.expected, 0), num(p.reported, 0), num(p.on_time, 0), num(p.missing, 0)])),
			h('p', {}, h('a', { href: `/reporting?period=${encodeURIComponent(P)}` }, t('overview.reporting_link'))));
	}, (p) => rep.replaceChildren(failure(p)));

	// stale: no update for this quarter or the one before
	const staleList = h('div', {});
	const details = h('details', {}, h('summary', {}, t('overview.stale_show', { n: T.stale })), staleList);
	details.addEventListener('toggle', async () => {
		if (!details.open || staleList.dataset.loaded) return;
		staleList.dataset.loaded = '1';
		staleList.replaceChildren(loading());
		try {
			const [y, n] = P.split('-Q').map(Number);
			const before = n > 1 ? `${y}-Q${n - 1}` : `${y - 1}-Q4`;
			const actions = (await all(`/v1/actions?cycle=${encodeURIComponent(progress.cycle)}`))
				.filter((a) => !a.latest || a.latest.period < before);
			staleList.replaceChildren(actions.length
				? h('ul', {}, actions.map((a) => h('li', {}, h('a', { href: `/actions/${a.id}` }, a.title), ' ',
					a.latest ? t('overview.stale_since', { period: a.latest.period }) : t('overview.never'))))
				: empty('overview.stale_none'));
		} catch (p) {
			staleList.replaceChildren(failure(p));
		}
	});
	main.append(h('h2', {}, t('overview.stale_title')), details);
}
