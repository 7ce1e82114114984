// The outcome of a call for inputs, for anyone (no sign-in), once its
// consultation report is published (GET /v1/public/consultations/{id}/outcome):
// each input's title, state and public answer, grouped by state. Nothing
// of who sent it; until publication the API answers 404.
import { Problem } from '../api.js';
import { empty, failure, h, page, t, when } from '../ui.js';

const STATES = ['accepted', 'partly_accepted', 'under_review', 'received', 'declined', 'duplicate'];

export default async function outcome(main, ctx) {
	const id = ctx.params[0];
	const r = await fetch(`/v1/public/consultations/${id}/outcome`, { headers: { Accept: 'application/json' }, credentials: 'omit' });
	const data = await r.json().catch(() => null);
	if (r.status === 404) {
		page(main, t('outcome.title'));
		main.append(h('p', { class: 'note', role: 'status' }, t('outcome.not_published')),
			h('p', {}, h('a', { href: `/calls/${id}` }, t('outcome.back'))));
		return;
	}
	if (!r.ok) {
		page(main, t('outcome.title'));
		main.append(failure(new Problem(r.status, data)));
		return;
	}
	page(main, t('outcome.title_of', { title: data.consultation.title }));
	main.append(h('p', { class: 'lead' }, t('outcome.published', { at: when(data.published_at) })),
		h('p', {}, h('a', { href: `/calls/${id}` }, t('outcome.back'))));
	if (!data.inputs.length) {
		main.append(empty('outcome.none'));
		return;
	}
	for (const s of STATES) {
		const items = data.inputs.filter((i) => i.state === s);
		if (!items.length) continue;
		main.append(h('h2', {}, t(`input_state.${s}`)),
			h('ul', { class: 'outcome' }, items.map((i) => h('li', {},
				h('h3', {}, i.title),
				i.public_answer ? h('p', {}, i.public_answer) : h('p', { class: 'empty' }, t('outcome.no_answer'))))));
	}
}
