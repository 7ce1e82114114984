// Pillar: its leads, the key actions of a cycle with their latest status,
// and the burn-up chart of that cycle.
import { all, get } from '../api.js';
import { chart, empty, h, loading, num, page, selectField, statusBadge, table, t } from '../ui.js';

export default async function pillar(main, ctx) {
	const n = ctx.params[0];
	page(main, t('pillar.title', { n }));
	const wait = loading();
	main.append(wait);
	const [p, progress, cycles] = await Promise.all([get(`/v1/pillars/${n}`), get('/v1/progress'), get('/v1/cycles')]);
	const cycle = cycles.items.find((c) => c.label === ctx.query.get('cycle')) ||
		cycles.items.find((c) => c.label === progress.cycle) || cycles.items[0];
	const actions = await all(`/v1/actions?pillar=${n}&cycle=${encodeURIComponent(cycle.label)}`);
	wait.remove();
	page(main, `${p.number}. ${p.name}`);

	main.append(h('dl', { class: 'facts' },
		h('dt', {}, t('pillar.leads')), h('dd', {}, p.leads.join(', ') || '—'),
		h('dt', {}, t('pillar.status')), h('dd', {}, p.status === 'active' ? t('pillar.active') : `${t('pillar.inactive')}: ${p.inactive_reason || ''}`)));

	const sel = selectField(t('pillar.cycle'), 'cycle', cycles.items.map((c) => [c.label, c.label]), cycle.label);
	sel.control.addEventListener('change', () => ctx.navigate(`/pillars/${n}?cycle=${encodeURIComponent(sel.control.value)}`));
	main.append(h('form', { onsubmit: (e) => e.preventDefault() }, sel.el));

	main.append(h('h2', {}, t('pillar.actions', { cycle: cycle.label })));
	main.append(actions.length ? table(t('pillar.actions_caption', { cycle: cycle.label }),
		[t('action.title_col'), t('action.year'), t('update.status'), { text: t('update.percent'), num: true }, t('update.period')],
		actions.map((a) => [h('a', { href: `/actions/${a.id}` }, a.title), String(a.year),
			a.latest ? statusBadge(a.latest.status) : statusBadge('not_started'),
			a.latest ? `${num(a.latest.percent_complete, 0)} %` : '—', a.latest ? a.latest.period : '—']))
		: empty('pillar.no_actions'));

	if (actions.length) {
		// the cycle up to the current quarter (or its end, when it is over)
		const last = `${cycle.end_year}-Q4`;
		const to = progress.as_of < last ? progress.as_of : last;
		if (`${cycle.start_year}-Q1` <= to) {
			main.append(h('h2', {}, t('pillar.burnup')));
			const slot = h('div', {});
			main.append(slot);
			slot.replaceWith(await chart('pillar-burnup', { pillar: n, from: `${cycle.start_year}-Q1`, to },
				t('pillar.burnup_caption', { cycle: cycle.label })));
		}
	}
}
