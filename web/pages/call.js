// A call for inputs, for anyone (no sign-in): what it asks, until when,
// and while it is open the form that sends an input with one attachment
// (POST /v1/public/consultations/{id}/inputs as multipart/form-data), then
// the receipt page. The form token comes with the page; the field
// "website" is a honeypot that people neither see nor reach.
import { Problem } from '../api.js';
import { busy, clearProblem, field, h, newId, page, selectField, showProblem, t, when } from '../ui.js';

const TYPES = ['member_state', 'un_entity', 'ngo', 'academia', 'individual', 'other'];

async function publicGet(path) {
	const r = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'omit' });
	const data = await r.json().catch(() => null);
	if (!r.ok) throw new Problem(r.status, data);
	return data;
}

function text(label, name, attrs = {}, hint) {
	const id = newId(name);
	const control = h(attrs.multiline ? 'textarea' : 'input', { id, name, 'data-field': name, ...attrs, multiline: undefined });
	return field(label, id, control, hint);
}

export default async function call(main, ctx) {
	const id = ctx.params[0];
	const c = await publicGet(`/v1/public/consultations/${id}`);
	page(main, c.title);
	main.append(h('p', { class: 'lead' }, t(`call.state.${c.state}`, { closes: when(c.closes_at), opens: when(c.opens_at) })));
	if (c.purpose) main.append(h('div', { class: 'purpose' }, c.purpose));
	const facts = [t('call.formats', { formats: c.formats.join(', ').toUpperCase(), mb: c.max_file_mb })];
	if (c.word_limit) facts.push(t('call.word_limit', { words: c.word_limit }));
	if (c.subject) facts.push(t('call.subject_hint', { subject: c.subject }));
	main.append(h('ul', { class: 'facts' }, facts.map((f) => h('li', {}, f))));
	// the outcome, once the call's consultation report is published
	try {
		await publicGet(`/v1/public/consultations/${id}/outcome`);
		main.append(h('p', {}, h('a', { href: `/calls/${id}/outcome` }, t('call.outcome_link'))));
	} catch {
		// not published yet: no link
	}
	if (c.state !== 'open') return;

	const { form_token: token } = await publicGet(`/v1/public/consultations/${id}/form`);
	const langs = c.languages.map((l) => [l, t(`call.language.${l}`)]);
	const type = selectField(t('call.contributor_type'), 'contributor_type', [['', t('call.choose')], ...TYPES.map((x) => [x, t(`call.type.${x}`)])], '', { required: true });
	const lang = selectField(t('call.language'), 'language', langs, langs.some(([l]) => l === 'en') ? 'en' : langs[0][0], { required: true });
	const consentId = newId('consent');
	const send = h('button', { type: 'submit' }, t('call.send'));
	// the honeypot: out of sight, out of the tab order, hidden from assistive technology
	const trapId = newId('website');
	const trap = h('div', { class: 'trap', 'aria-hidden': 'true' },
		h('label', { for: trapId }, t('call.website')),
		h('input', { id: trapId, name: 'website', type: 'text', tabindex: '-1', autocomplete: 'off', value: '' }));
	const form = h('form', { id: 'call-input', novalidate: true, enctype: 'multipart/form-data' },
		h('h2', {}, t('call.form_title')),
		text(t('call.name'), 'name', { autocomplete: 'name', required: true, maxlength: '200' }),
		text(t('call.organisation'), 'organisation', { autocomplete: 'organization', maxlength: '300' }),
		type.el,
		text(t('call.country'), 'country', { autocomplete: 'country', maxlength: '2', size: '2' }, t('call.country_hint')),
		text(t('call.email'), 'email', { type: 'email', autocomplete: 'email', required: true, spellcheck: 'false' }, t('call.email_hint')),
		lang.el,
		text(t('call.subject'), 'subject', { required: true, maxlength: '300', value: c.subject || '' }),
		text(t('call.text'), 'text', { multiline: true, required: true, rows: '12' }, c.word_limit ? t('call.word_limit', { words: c.word_limit }) : undefined),
		text(t('call.attachment'), 'attachment', { type: 'file', accept: c.formats.map((f) => `.${f.toLowerCase() === 'word' ? 'docx' : f.toLowerCase()}`).join(',') },
			t('call.formats', { formats: c.formats.join(', ').toUpperCase(), mb: c.max_file_mb })),
		h('div', { class: 'field checkbox' },
			h('input', { id: consentId, name: 'consent', type: 'checkbox', value: 'on', required: true, 'data-field': 'consent' }),
			h('label', { for: consentId }, t('call.consent'))),
		trap,
		h('input', { type: 'hidden', name: 'form_token', value: token }),
		h('div', { class: 'actions' }, send));
	form.addEventListener('submit', busy(send, async () => {
		clearProblem(form);
		const r = await fetch(`/v1/public/consultations/${id}/inputs`, { method: 'POST', body: new FormData(form), credentials: 'omit' });
		const data = await r.json().catch(() => null);
		if (!r.ok) {
			const p = new Problem(r.status, data);
			showProblem(form, p.errors?.length ? p : { ...p, errors: [] });
			return;
		}
		sessionStorage.setItem(`receipt-${id}`, JSON.stringify({ ...data, title: c.title }));
		ctx.navigate(`/calls/${id}/receipt`);
	}));
	main.append(form);
}

// The receipt, as the answer gave it (kept for this tab only).
export async function receipt(main, ctx) {
	const id = ctx.params[0];
	const got = JSON.parse(sessionStorage.getItem(`receipt-${id}`) || 'null');
	page(main, t('call.receipt_title'));
	if (!got) {
		main.append(h('p', {}, t('call.receipt_none')), h('p', {}, h('a', { href: `/calls/${id}` }, t('call.back'))));
		return;
	}
	main.append(h('p', { role: 'status' }, t('call.receipt_body', { title: got.title, at: when(got.received_at) })),
		h('p', { class: 'receipt' }, t('call.receipt_code'), ' ', h('strong', { id: 'receipt-code' }, got.receipt)),
		h('p', {}, t('call.receipt_mail')),
		h('p', {}, h('a', { href: `/calls/${id}` }, t('call.back'))));
}
