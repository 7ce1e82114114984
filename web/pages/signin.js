// Sign in: an email address gets a one-time link (POST /v1/auth/link,
// always 202, so it never tells whether the address is known); the link
// (/sign-in#<token>) is exchanged for the session cookie; developers may
// use an API token instead, kept in memory for this page only.
import { api, Problem, useToken } from '../api.js';
import { busy, clearProblem, field, h, newId, notice, page, showProblem, t } from '../ui.js';

export default async function signin(main, ctx, message) {
	page(main, t('signin.title'));
	if (message) main.append(message);
	main.append(h('p', {}, t('signin.intro')));

	const emailId = newId('email');
	const email = h('input', { id: emailId, name: 'email', type: 'email', autocomplete: 'email', required: true, 'data-field': 'email', spellcheck: 'false' });
	const send = h('button', { type: 'submit' }, t('signin.send'));
	const sent = h('div', {});
	const form = h('form', { id: 'signin-link', novalidate: true }, field(t('signin.email'), emailId, email, t('signin.email_hint')), h('div', { class: 'actions' }, send), sent);
	form.addEventListener('submit', busy(send, async () => {
		clearProblem(form);
		sent.replaceChildren();
		if (!email.value.trim()) {
			showProblem(form, { errors: [{ field: 'email', message: t('signin.email_missing') }] });
			return;
		}
		try {
			await api('POST', '/v1/auth/link', { email: email.value.trim() });
			sent.append(notice(t('signin.sent', { email: email.value.trim() })));
		} catch (p) {
			showProblem(form, p);
		}
	}));
	main.append(form);

	// for developers: an API token of their own
	const tokId = newId('token');
	const token = h('input', { id: tokId, name: 'token', type: 'password', autocomplete: 'off', 'data-field': 'token', spellcheck: 'false' });
	const go = h('button', { type: 'submit', class: 'secondary' }, t('signin.submit'));
	const tform = h('form', { id: 'signin-token', novalidate: true }, field(t('signin.token'), tokId, token, t('signin.token_hint')), h('div', { class: 'actions' }, go));
	tform.addEventListener('submit', busy(go, async () => {
		clearProblem(tform);
		useToken(token.value.trim());
		try {
			await ctx.signedIn('/');
		} catch (p) {
			useToken(null);
			showProblem(tform, p instanceof Problem && p.status === 401
				? { errors: [{ field: 'token', message: t('signin.token_refused') }] } : p);
		}
	}));
	main.append(h('details', {}, h('summary', {}, t('signin.use_token')), tform));
}

// The token of a sign-in or invitation link, for the session cookie.
export async function exchange(main, ctx, token) {
	page(main, t('signin.title'));
	main.append(h('p', { class: 'loading', role: 'status' }, t('signin.signing_in')));
	try {
		await api('POST', '/v1/auth/session', { token });
	} catch (p) {
		const why = p.status === 401 ? t('signin.link_refused') : (p.detail || t('error.generic'));
		history.replaceState(null, '', '/sign-in');
		return signin(main, ctx, h('p', { class: 'note', role: 'alert' }, why));
	}
	return ctx.signedIn('/');
}
