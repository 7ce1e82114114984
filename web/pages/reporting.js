// Reporting: for a quarter, who has not reported yet: per pillar the
// actions expected, reported, on time and missing (listed), and per lead
// entity.
import { all, get } from '../api.js';
import { day, h, loading, num, page, quarters, selectField, table, t } from '../ui.js';
import { sheetTools } from './sheet.js';

export default async function reporting(main, ctx) {
	page(main, t('reporting.title'));
	const wait = loading();
	main.append(wait);
	const [plans, now, pillars] = await Promise.all([get('/v1/workplans'), get('/v1/progress'), get('/v1/pillars')]);
	const asked = ctx.query.get('period');
	const r = await get(`/v1/reporting${asked ? `?period=${encodeURIComponent(asked)}` : ''}`);
	const titles = Object.fromEntries((await all(`/v1/actions?cycle=${encodeURIComponent(r.cycle || now.cycle)}`)).map((a) => [a.id, a.title]));
	wait.remove();

	const start = Math.min(...plans.items.map((w) => w.start_year));
	const sel = selectField(t('reporting.period'), 'period', quarters(start, now.as_of).reverse().map((x) => [x, x]), r.period);
	sel.control.addEventListener('change', () => ctx.navigate(`/reporting?period=${encodeURIComponent(sel.control.value)}`));
	main.append(h('form', { onsubmit: (e) => e.preventDefault() }, sel.el),
		h('p', {}, t('reporting.deadline', { date: day(r.deadline) })));

	const names = Object.fromEntries(pillars.items.map((p) => [p.number, p.name]));
	main.append(h('h2', {}, t('reporting.by_pillar')),
		table(t('reporting.pillars_caption', { quarter: r.period }),
			[t('pillar.pillar'), { text: t('reporting.expected'), num: true }, { text: t('reporting.reported'), num: true },
				{ text: t('reporting.on_time'), num: true }, { text: t('reporting.missing'), num: true }, t('reporting.missing_actions')],
			r.pillars.map((p) => [`${p.number}. ${names[p.number] || ''}`, num(p.expected, 0), num(p.reported, 0),
				num(p.on_time, 0), num(p.missing, 0),
				p.missing_actions.length
					? h('ul', {}, p.missing_actions.map((id) => h('li', {}, h('a', { href: `/actions/${id}` }, titles[id] || t('action.title', { id })))))
					: '—'])));
	main.append(h('h2', {}, t('reporting.by_entity')),
		table(t('reporting.entities_caption', { quarter: r.period }),
			[t('reporting.entity'), { text: t('reporting.expected'), num: true }, { text: t('reporting.reported'), num: true },
				{ text: t('reporting.on_time'), num: true }],
			r.entities.map((e) => [e.code, num(e.expected, 0), num(e.reported, 0), num(e.on_time, 0)])));
	// those who post updates report the quarter from a spreadsheet here too
	if (ctx.me?.actions?.length) {
		const periods = quarters(start, now.as_of).reverse();
		main.append(sheetTools(periods, r.period, async () => {}));
	}
}
