// Consultations: the Network's calls for inputs.
import { all } from '../api.js';
import { day, empty, h, loading, page, table, t } from '../ui.js';

export default async function consultations(main) {
	page(main, t('consultations.title'));
	const wait = loading();
	main.append(wait);
	const items = await all('/v1/consultations');
	wait.replaceWith(items.length ? table(t('consultations.caption'),
		[t('consultations.call'), t('pillar.cycle'), t('consultations.issued'), t('consultations.due'), t('consultations.subject'), t('consultations.formats'), t('triage.title')],
		items.map((c) => [c.title, c.cycle || '—', day(c.issued), day(c.due), c.subject_must_contain || '—', (c.formats || []).join(', '),
			h('a', { href: `/consultations/${c.id}/inputs`, 'aria-label': `${t('triage.open')}: ${c.title}` }, t('triage.open'))]))
		: empty('consultations.none'));
}
