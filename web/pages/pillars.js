// Pillars: the eight pillars, their leads, status and key actions.
import { get } from '../api.js';
import { h, loading, num, page, table, t } from '../ui.js';

export default async function pillars(main) {
	page(main, t('pillars.title'));
	const wait = loading();
	main.append(wait);
	const list = await get('/v1/pillars');
	wait.replaceWith(table(t('pillars.caption'),
		[t('pillar.pillar'), t('pillar.leads'), t('pillar.status'), { text: t('overview.actions'), num: true }],
		list.items.map((p) => [h('a', { href: `/pillars/${p.number}` }, `${p.number}. ${p.name}`),
			p.leads.join(', ') || '—',
			p.status === 'active' ? t('pillar.active') : `${t('pillar.inactive')}: ${p.inactive_reason || ''}`,
			num(p.actions, 0)])));
}
