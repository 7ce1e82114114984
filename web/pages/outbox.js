// Outbox (co-chairs): the messages the service has to send, and those it
// holds while no mail server is configured (GET /v1/outbox, SPEC 11), with
// the text of each held message, so that it can be passed on by hand.
import { all } from '../api.js';
import { empty, h, loading, page, t, when } from '../ui.js';

export default async function outbox(main) {
	page(main, t('outbox.title'));
	main.append(h('p', {}, t('outbox.intro')));
	const wait = loading();
	main.append(wait);
	const items = await all('/v1/outbox', 500);
	wait.replaceWith(items.length ? h('ul', { class: 'cards' }, items.map((m) => h('li', {},
		h('h2', { class: 'h3' }, m.subject || m.kind),
		h('p', {}, [
			`${t('outbox.to')}: ${m.recipient ? `${m.recipient.name} <${m.recipient.email}>` : t('outbox.webhook', { id: m.webhook ?? '' })}`,
			`${t('outbox.state')}: ${t(`outbox.state.${m.state}`)}`,
			`${t('outbox.created')}: ${when(m.created_at)}`,
		].join(' · ')),
		m.last_error ? h('p', { class: 'note' }, m.last_error) : null,
		m.text ? h('details', {}, h('summary', {}, t('outbox.text')), h('p', { class: 'narrative' }, m.text)) : null)))
		: empty('outbox.none'));
}
