// Outbox (co-chairs): the messages the service has to send, and those it
// holds when no mail server is configured (GET /v1/outbox, SPEC 11).
import { all } from '../api.js';
import { empty, h, loading, page, table, t, when } from '../ui.js';

export default async function outbox(main) {
	page(main, t('outbox.title'));
	main.append(h('p', {}, t('outbox.intro')));
	const wait = loading();
	main.append(wait);
	const items = await all('/v1/outbox', 500);
	wait.replaceWith(items.length ? table(t('outbox.caption'),
		[t('outbox.created'), t('outbox.channel'), t('outbox.to'), t('outbox.subject'), t('outbox.state')],
		items.map((m) => [when(m.created_at), m.channel || '—', m.to || m.recipient || m.composed?.to || '—',
			m.subject || m.composed?.subject || m.kind || '—', m.state || '—']))
		: empty('outbox.none'));
}
