// Members (co-chairs): who uses the service, and invitations of new
// members (POST /v1/members: the invitation mail goes to the outbox, and
// its link is shown here once).
import { all, api, get } from '../api.js';
import { busy, clearProblem, empty, field, h, loading, newId, notice, page, problemText, selectField, showProblem, table, t, when } from '../ui.js';

export default async function members(main, ctx) {
	page(main, t('members.title'));
	const wait = loading();
	main.append(wait);
	const list = h('div', {});
	const said = h('div', {});
	const reload = async () => {
		const items = await all('/v1/members', 2000);
		list.replaceChildren(items.length ? table(t('members.caption'),
			[t('members.name'), t('members.email'), t('members.entity'), t('members.role'), t('members.language'), t('members.active'), t('members.change')],
			items.map((m) => [m.name, m.email, m.entity, t(`role.${m.role}`), m.language || '—', m.active === false ? t('no') : t('yes'),
				m.id === ctx.me.id ? '—' : toggle(m, said, reload)]))
			: empty('members.none'));
	};
	const entities = await all('/v1/entities');
	wait.remove();
	main.append(inviteForm(entities, reload), h('h2', {}, t('members.list')), said, list);
	await reload();
}

function inviteForm(entities, reload) {
	const nameId = newId('name');
	const emailId = newId('email');
	const name = h('input', { id: nameId, name: 'name', type: 'text', autocomplete: 'off', 'data-field': 'name' });
	const email = h('input', { id: emailId, name: 'email', type: 'email', autocomplete: 'off', 'data-field': 'email', spellcheck: 'false' });
	const entity = selectField(t('members.entity'), 'entity', entities.map((e) => [e.code, `${e.code}: ${e.name}`]), entities[0]?.code);
	const role = selectField(t('members.role'), 'role', ['viewer', 'lead', 'cochair'].map((r) => [r, t(`role.${r}`)]), 'viewer');
	const language = selectField(t('members.language'), 'language', [['en', 'English'], ['fr', 'Français']], 'en');
	const go = h('button', { type: 'submit' }, t('members.invite'));
	const done = h('div', {});
	const form = h('form', { id: 'invite-form', novalidate: true }, h('h2', {}, t('members.invite_title')),
		field(t('members.name'), nameId, name), field(t('members.email'), emailId, email),
		entity.el, role.el, language.el, h('div', { class: 'actions' }, go), done);
	form.addEventListener('submit', busy(go, async () => {
		clearProblem(form);
		done.replaceChildren();
		let r;
		try {
			r = await api('POST', '/v1/members', {
				name: name.value, email: email.value.trim(), entity: entity.control.value,
				role: role.control.value, language: language.control.value,
			});
		} catch (p) {
			showProblem(form, p);
			return;
		}
		const inv = r.data.invitation || {};
		const msg = notice(t('members.invited', { name: r.data.member?.name || name.value, expires: when(inv.expires_at) }));
		msg.setAttribute('tabindex', '-1');
		done.replaceChildren(msg);
		name.value = email.value = '';
		await reload();
		msg.focus();
	}));
	return form;
}

// Deactivate (which ends the member's sessions and revokes its tokens) or
// reactivate a member, at the version just read (If-Match).
function toggle(m, said, reload) {
	const active = m.active !== false;
	const b = h('button', { type: 'button', class: active ? 'warning' : 'secondary', 'aria-label': t(active ? 'members.deactivate_who' : 'members.reactivate_who', { name: m.name }) },
		t(active ? 'members.deactivate' : 'members.reactivate'));
	b.addEventListener('click', busy(b, async () => {
		let msg;
		try {
			const now = await api('GET', `/v1/members/${m.id}`);
			await api('PATCH', `/v1/members/${m.id}`, { active: !active }, { 'If-Match': now.headers.get('ETag') });
			msg = notice(t(active ? 'members.deactivated' : 'members.reactivated', { name: m.name }));
		} catch (p) {
			msg = h('p', { class: 'note', role: 'alert' }, problemText(p));
		}
		msg.setAttribute('tabindex', '-1');
		said.replaceChildren(msg);
		await reload();
		msg.focus();
	}));
	return b;
}
