// Action: its details, its history of updates (newest first), the update
// form for the members who may post on it, and for co-chairs Approve and
// Return on updates waiting for review.
import { api, get } from '../api.js';
import {
	busy, clearProblem, day, empty, field, h, loading, newId, notice, num, page, quarters,
	selectField, showProblem, statusBadge, STATUSES, t, when,
} from '../ui.js';
import { reviewControls } from './review.js';
import { sheetTools } from './sheet.js';

export default async function action(main, ctx) {
	const id = Number(ctx.params[0]);
	page(main, t('action.title', { id }));
	const wait = loading();
	main.append(wait);
	const [a, progress] = await Promise.all([get(`/v1/actions/${id}`), get('/v1/progress')]);
	wait.remove();
	page(main, a.title);

	main.append(h('dl', { class: 'facts' },
		h('dt', {}, t('pillar.pillar')), h('dd', {}, h('a', { href: `/pillars/${a.pillar}` }, t('pillar.title', { n: a.pillar }))),
		h('dt', {}, t('pillar.cycle')), h('dd', {}, a.cycle),
		h('dt', {}, t('action.year')), h('dd', {}, String(a.year)),
		h('dt', {}, t('pillar.leads')), h('dd', {}, a.leads.join(', ') || '—'),
		h('dt', {}, t('action.due')), h('dd', {}, day(a.due_date)),
		h('dt', {}, t('update.status')), h('dd', {}, a.latest ? [statusBadge(a.latest.status), ` ${num(a.latest.percent_complete, 0)} % (${a.latest.period})`] : statusBadge('not_started')),
		a.archived ? [h('dt', {}, t('action.archived')), h('dd', {}, t('yes'))] : null));
	if (a.description) main.append(h('p', { class: 'narrative' }, a.description));
	if (a.tags.length) main.append(h('p', {}, `${t('action.tags')}: ${a.tags.join(', ')}`));
	if (a.inputs && a.inputs.length) {
		main.append(h('h2', {}, t('action.inputs')),
			h('ul', {}, a.inputs.map((i) => h('li', {}, ctx.isCochair()
				? h('a', { href: `/inputs/${i.id}` }, i.title) : i.title, i.receipt ? ` (${i.receipt})` : ''))));
	}

	const history = h('div', {});
	const said = h('div', {});
	const reviewed = async (msg) => {
		said.replaceChildren(msg);
		await reload();
		msg.focus();
	};
	const reload = async () => {
		history.replaceChildren(loading());
		const list = await get(`/v1/actions/${id}/updates?limit=100`);
		history.replaceChildren(list.items.length
			? h('ol', { class: 'cards', reversed: true }, list.items.map((u) => h('li', {}, updateCard(u, ctx, reviewed))))
			: empty('action.no_updates'));
	};

	if (ctx.mayPost(a) && !a.archived) {
		main.append(updateForm(a, progress.as_of, reload));
		const periods = cyclePeriods(a, progress.as_of);
		if (periods.length) main.append(sheetTools(periods, periods[0], reload));
	}
	main.append(h('h2', {}, t('action.history')), said, history);
	await reload();
}

// One update as it reads in a history or the review queue.
export function updateCard(u, ctx, after, heading = 'h3') {
	const parts = [
		h(heading, {}, t('update.heading', { period: u.period }), ' ', statusBadge(u.status)),
		h('p', {}, t('update.meta', { percent: num(u.percent_complete, 0), who: u.author?.name || '—', entity: u.author?.entity || '', when: when(u.created_at) })),
		h('p', {}, `${t('update.review_state')}: ${t(`review_state.${u.review_state}`)}`, ' · ',
			`${t('update.visibility')}: ${t(`visibility.${u.visibility}`)}`),
		h('p', { class: 'narrative' }, u.narrative),
	];
	if (u.public_summary) parts.push(h('p', {}, h('strong', {}, `${t('update.public_summary')}: `), u.public_summary));
	if (u.evidence?.length) {
		parts.push(h('p', {}, h('strong', {}, t('update.evidence'))),
			h('ul', {}, u.evidence.map((e) => h('li', {}, h('a', { href: e.url, rel: 'noopener noreferrer' }, e.title)))));
	}
	if (u.review_comment) parts.push(h('p', {}, h('strong', {}, `${t('update.review_comment')}: `), u.review_comment));
	if (ctx.isCochair() && u.review_state === 'submitted') parts.push(reviewControls(u, after));
	return parts;
}

const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
	: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));

// "Title https://..." per line: the last word is the link, the rest its title.
function parseEvidence(text) {
	return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
		const m = l.match(/^(.*\S)\s+(\S+)$/);
		return m ? { title: m[1], url: m[2] } : { title: l, url: l };
	});
}

// The quarters of the action's cycle up to the current one, newest first.
function cyclePeriods(a, current) {
	const [first, last] = a.cycle.split('-').map(Number);
	const end = `${last || first}-Q4`;
	return quarters(first, current < end ? current : end).reverse();
}

function updateForm(a, current, after) {
	const periods = cyclePeriods(a, current);
	if (!periods.length) return h('p', { class: 'note' }, t('update.not_yet', { cycle: a.cycle }));
	const period = selectField(t('update.period'), 'period', periods.map((p) => [p, p]), periods[0]);
	const status = selectField(t('update.status'), 'status', STATUSES.map((s) => [s, t(`status.${s}`)]), a.latest?.status || 'on_track');

	const ids = Object.fromEntries(['percent', 'narrative', 'summary', 'public', 'evidence'].map((k) => [k, newId(k)]));
	const percent = h('input', { id: ids.percent, name: 'percent_complete', type: 'number', min: '0', max: '100', step: '1', inputmode: 'numeric', 'data-field': 'percent_complete', value: String(a.latest?.percent_complete ?? 0) });
	const narrative = h('textarea', { id: ids.narrative, name: 'narrative', rows: '6', 'data-field': 'narrative' });
	const summary = h('textarea', { id: ids.summary, name: 'public_summary', rows: '3', 'data-field': 'public_summary' });
	const pub = h('input', { id: ids.public, name: 'visibility', type: 'checkbox', 'data-field': 'visibility' });
	const evidence = h('textarea', { id: ids.evidence, name: 'evidence', rows: '3', 'data-field': 'evidence', spellcheck: 'false' });
	const post = h('button', { type: 'submit' }, t('update.post'));
	const done = h('div', {});
	const form = h('form', { id: 'update-form', novalidate: true },
		h('h2', {}, t('update.form_title')),
		period.el, status.el,
		field(t('update.percent'), ids.percent, percent, t('update.percent_hint')),
		field(t('update.narrative'), ids.narrative, narrative, t('update.narrative_hint')),
		field(t('update.public_summary'), ids.summary, summary, t('update.public_summary_hint')),
		h('div', { class: 'field check' }, pub, h('label', { for: ids.public }, t('update.show_publicly'))),
		field(t('update.evidence_links'), ids.evidence, evidence, t('update.evidence_hint')),
		h('div', { class: 'actions' }, post), done);
	let key = newKey();
	form.addEventListener('submit', busy(post, async () => {
		clearProblem(form);
		done.replaceChildren();
		const body = {
			period: period.control.value,
			status: status.control.value,
			percent_complete: percent.value === '' ? undefined : Number(percent.value),
			narrative: narrative.value,
			public_summary: summary.value.trim() ? summary.value : null,
			visibility: pub.checked ? 'public' : 'internal',
			evidence: parseEvidence(evidence.value),
		};
		if (percent.value === '' && percent.validity.badInput) {
			showProblem(form, { errors: [{ field: 'percent_complete', message: t('update.percent_invalid') }] });
			return;
		}
		try {
			await api('POST', `/v1/actions/${a.id}/updates`, body, { 'Idempotency-Key': key });
		} catch (p) {
			showProblem(form, p);
			return;
		}
		key = newKey();
		narrative.value = summary.value = evidence.value = '';
		pub.checked = false;
		const msg = notice(t('update.posted', { period: body.period }));
		msg.setAttribute('tabindex', '-1');
		done.replaceChildren(msg);
		await after();
		msg.focus();
	}));
	return form;
}
