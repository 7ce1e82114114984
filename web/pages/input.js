// One input to a call: what was sent (the contact for co-chairs only),
// and for co-chairs the triage form (state, pillars, key actions, public
// answer, private note) and the erasure of the contributor's contact.
import { api, get } from '../api.js';
import { busy, clearProblem, field, h, loading, newId, notice, page, selectField, showProblem, t, when } from '../ui.js';
import { INPUT_STATES } from './triage.js';

export default async function input(main, ctx) {
	const id = Number(ctx.params[0]);
	page(main, t('input.title', { id }));
	const wait = loading();
	main.append(wait);
	const [first, pillars] = await Promise.all([get(`/v1/inputs/${id}`), get('/v1/pillars')]);
	wait.remove();
	let item = first;
	const facts = h('div', {});
	const show = () => facts.replaceChildren(...details(item));
	page(main, item.title);
	show();
	main.append(h('p', {}, h('a', { href: `/consultations/${item.consultation}/inputs` }, t('input.back'))), facts);
	if (!ctx.isCochair()) return;
	main.append(await triageForm(item, pillars.items, (next) => { item = next; show(); }),
		eraseControl(item, (next) => { item = next; show(); }));
}

function details(i) {
	const rows = [
		[t('input.receipt'), i.receipt || '—'],
		[t('triage.received'), when(i.received_at)],
		[t('triage.contributor_type'), i.contributor_type ? t(`contributor_type.${i.contributor_type}`) : '—'],
		[t('input.country'), i.country || '—'],
		[t('input.language'), i.language || '—'],
		[t('triage.state'), t(`input_state.${i.state}`)],
		[t('triage.pillars'), i.pillars.length ? i.pillars.map((n) => t('pillar.title', { n })).join(', ') : '—'],
		[t('triage.actions'), i.actions.length ? h('ul', {}, i.actions.map((a) => h('li', {}, h('a', { href: `/actions/${a.id}` }, a.title)))) : '—'],
		[t('input.public_answer'), i.public_answer || '—'],
	];
	if (i.words !== null) rows.push([t('input.words'), String(i.words)]);
	if (i.over_word_limit) rows.push([t('input.over_word_limit'), t('yes')]);
	if (i.attachment) {
		rows.push([t('input.attachment'), [h('a', { href: i.attachment.url, download: '' }, i.attachment.name),
			` (${i.attachment.media_type === 'application/pdf' ? 'PDF' : 'Word'}, ${Math.ceil(i.attachment.bytes / 1024)} KB)`]]);
	}
	if (i.contact) {
		if (i.contact_erased_at) rows.push([t('input.contact'), t('input.erased_on', { when: when(i.contact_erased_at) })]);
		else rows.push([t('input.name'), i.contact.name || '—'], [t('input.organisation'), i.contact.organisation || '—'], [t('input.email'), i.contact.email || '—']);
	}
	if (i.note) rows.push([t('input.note'), i.note]);
	return [h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
		h('h2', {}, t('input.text')), h('p', { class: 'narrative' }, i.text)];
}

// The key actions of the pillars checked, as checkboxes; those checked
// (linked: {id, pillar, title}) stay, checked, whatever their pillar.
async function actionChoices(box, pillarNumbers, linked) {
	const lists = await Promise.all(pillarNumbers.map((n) => get(`/v1/actions?pillar=${n}&limit=500`)));
	const seen = new Map(linked.map((a) => [a.id, a]));
	for (const l of lists) for (const a of l.items) if (!seen.has(a.id) && !a.archived) seen.set(a.id, a);
	const checked = new Set(linked.map((a) => a.id));
	box.replaceChildren(...(seen.size ? [...seen.values()].map((a) => {
		const cid = newId('action');
		return h('div', { class: 'check' }, h('input', { id: cid, type: 'checkbox', name: 'actions', value: String(a.id), checked: checked.has(a.id),
			'data-pillar': String(a.pillar), 'data-title': a.title }),
			h('label', { for: cid }, t('input.action_choice', { pillar: a.pillar, title: a.title })));
	}) : [h('p', { class: 'hint' }, t('input.no_actions'))]));
}

async function triageForm(item, pillars, saved) {
	const state = selectField(t('triage.state'), 'state', INPUT_STATES.map((s) => [s, t(`input_state.${s}`)]), item.state);
	const pillarBox = h('fieldset', { id: newId('pillars'), 'data-field': 'pillars', tabindex: '-1' }, h('legend', {}, t('triage.pillars')),
		pillars.map((p) => {
			const cid = newId('pillar');
			return h('div', { class: 'check' }, h('input', { id: cid, type: 'checkbox', name: 'pillars', value: String(p.number), checked: item.pillars.includes(p.number) }),
				h('label', { for: cid }, `${p.number}. ${p.name}`));
		}));
	const actionList = h('div', {});
	const actionBox = h('fieldset', { id: newId('actions'), 'data-field': 'actions', tabindex: '-1' }, h('legend', {}, t('triage.actions')),
		h('p', { class: 'hint' }, t('input.actions_hint')), actionList);
	const checkedPillars = () => [...pillarBox.querySelectorAll('input:checked')].map((c) => Number(c.value));
	const checkedActions = () => [...actionList.querySelectorAll('input:checked')].map((c) => Number(c.value));
	pillarBox.addEventListener('change', () => actionChoices(actionList, checkedPillars(),
		[...actionList.querySelectorAll('input:checked')].map((c) => ({ id: Number(c.value), pillar: Number(c.dataset.pillar), title: c.dataset.title }))));
	await actionChoices(actionList, item.pillars, item.actions);
	const ids = { answer: newId('answer'), note: newId('note') };
	const answer = h('textarea', { id: ids.answer, name: 'public_answer', rows: '4', 'data-field': 'public_answer' });
	answer.value = item.public_answer;
	const note = h('textarea', { id: ids.note, name: 'note', rows: '3', 'data-field': 'note' });
	note.value = item.note || '';
	const save = h('button', { type: 'submit' }, t('input.save'));
	const done = h('div', {});
	const form = h('form', { id: 'triage-form', novalidate: true }, h('h2', {}, t('input.triage')),
		state.el, pillarBox, actionBox,
		field(t('input.public_answer'), ids.answer, answer, t('input.public_answer_hint')),
		field(t('input.note'), ids.note, note, t('input.note_hint')),
		h('div', { class: 'actions' }, save), done);
	form.addEventListener('submit', busy(save, async () => {
		clearProblem(form);
		done.replaceChildren();
		let r;
		try {
			r = await api('PATCH', `/v1/inputs/${item.id}`, {
				state: state.control.value, pillars: checkedPillars(), actions: checkedActions(),
				public_answer: answer.value, note: note.value,
			}, { 'If-Match': `"${item.version}"` });
		} catch (p) {
			showProblem(form, p);
			return;
		}
		item = r.data;
		saved(item);
		const msg = notice(t('input.saved'));
		msg.setAttribute('tabindex', '-1');
		done.replaceChildren(msg);
		msg.focus();
	}));
	return form;
}

// Erasing the contact takes two presses: the first says what it does.
function eraseControl(item, erased) {
	const box = h('section', { 'aria-labelledby': 'erase-title' }, h('h2', { id: 'erase-title' }, t('input.erase_title')));
	if (item.contact_erased_at) {
		box.append(h('p', {}, t('input.erased_on', { when: when(item.contact_erased_at) })));
		return box;
	}
	const ask = h('button', { type: 'button', class: 'warning' }, t('input.erase'));
	const said = h('div', {});
	box.append(h('p', {}, t('input.erase_hint')), h('div', { class: 'actions' }, ask), said);
	ask.addEventListener('click', () => {
		const sure = h('button', { type: 'button', class: 'warning' }, t('input.erase_confirm'));
		said.replaceChildren(h('p', { role: 'alert' }, t('input.erase_warning')), sure);
		sure.focus();
		sure.addEventListener('click', busy(sure, async () => {
			try {
				await api('DELETE', `/v1/inputs/${item.id}/contact`);
				erased(await get(`/v1/inputs/${item.id}`));
			} catch (p) {
				said.replaceChildren(notice(p.detail || t('error.generic'), false));
				return;
			}
			const msg = notice(t('input.erased'));
			msg.setAttribute('tabindex', '-1');
			ask.remove();
			said.replaceChildren(msg);
			msg.focus();
		}));
	});
	return box;
}
