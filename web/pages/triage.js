// Triage of a call's inputs (co-chairs; a pillar lead sees the inputs
// tagged with its pillars): the list with its filters, kept in the URL,
// each input leading to its page; the CSV for co-chairs.
import { get } from '../api.js';
import { empty, field, h, loading, newId, page, selectField, table, t, when } from '../ui.js';

export const INPUT_STATES = ['received', 'under_review', 'accepted', 'partly_accepted', 'declined', 'duplicate'];
export const CONTRIBUTOR_TYPES = ['member_state', 'un_entity', 'ngo', 'academia', 'individual', 'other'];
const FILTERS = ['state', 'pillar', 'contributor_type', 'q'];

export default async function triage(main, ctx) {
	const id = Number(ctx.params[0]);
	const q = ctx.query;
	page(main, t('triage.title'));
	const any = ['', t('triage.any')];
	const state = selectField(t('triage.state'), 'state', [any, ...INPUT_STATES.map((s) => [s, t(`input_state.${s}`)])], q.get('state') || '');
	const pillar = selectField(t('triage.pillar'), 'pillar', [any, ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => [String(n), t('pillar.title', { n })])], q.get('pillar') || '');
	const type = selectField(t('triage.contributor_type'), 'contributor_type', [any, ...CONTRIBUTOR_TYPES.map((c) => [c, t(`contributor_type.${c}`)])], q.get('contributor_type') || '');
	const textId = newId('q');
	const text = h('input', { id: textId, name: 'q', type: 'search', value: q.get('q') || '', 'data-field': 'q' });
	const go = h('button', { type: 'submit' }, t('triage.filter'));
	const form = h('form', { id: 'triage-filters', class: 'filters', role: 'search', 'aria-label': t('triage.filters') },
		state.el, pillar.el, type.el, field(t('triage.search'), textId, text), h('div', { class: 'actions' }, go));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const params = new URLSearchParams();
		for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
		const s = params.toString();
		ctx.navigate(`${location.pathname}${s ? `?${s}` : ''}`);
	});
	main.append(form);
	const wait = loading();
	main.append(wait);
	const params = new URLSearchParams({ limit: '500' });
	for (const k of FILTERS) if (q.get(k)) params.set(k, q.get(k));
	const list = await get(`/v1/consultations/${id}/inputs?${params}`);
	wait.replaceWith(list.items.length ? table(t('triage.caption'),
		[t('triage.input'), t('triage.received'), t('triage.contributor_type'), t('triage.state'), t('triage.pillars'), { text: t('triage.actions'), num: true }],
		list.items.map((i) => [h('a', { href: `/inputs/${i.id}` }, i.title), when(i.received_at),
			i.contributor_type ? t(`contributor_type.${i.contributor_type}`) : '—', t(`input_state.${i.state}`),
			i.pillars.join(', ') || '—', String(i.actions.length)]))
		: empty('triage.none'));
	if (ctx.isCochair()) {
		main.append(h('p', {}, h('a', { href: `/v1/consultations/${id}/inputs.csv`, download: '' }, t('triage.csv'))),
			h('p', { class: 'hint' }, t('triage.csv_hint')));
	}
}
