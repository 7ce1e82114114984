// Webhooks (co-chairs): endpoints that receive the service's events, signed
// as Standard Webhooks; the secret is shown once, when an endpoint is added.
import { all, api } from '../api.js';
import { busy, clearProblem, empty, field, h, loading, newId, notice, page, showProblem, table, t } from '../ui.js';

const EVENTS = ['update.created', 'update.reviewed', 'report.done', 'report.published', 'reporting.overdue'];

export default async function webhooks(main) {
	page(main, t('webhooks.title'));
	const list = h('div', {}, loading());
	const reload = async () => {
		const items = await all('/v1/webhooks', 500);
		list.replaceChildren(items.length ? table(t('webhooks.caption'),
			[t('webhooks.url'), t('webhooks.events'), t('webhooks.description'), t('webhooks.state')],
			items.map((w) => [w.url, (w.events || []).join(', '), w.description || '—', w.active === false ? `${t('no')}${w.disabled_reason ? `: ${w.disabled_reason}` : ''}` : t('yes')]))
			: empty('webhooks.none'));
	};
	main.append(addForm(reload), h('h2', {}, t('webhooks.list')), list);
	await reload();
}

function addForm(reload) {
	const urlId = newId('url');
	const descId = newId('desc');
	const url = h('input', { id: urlId, name: 'url', type: 'url', 'data-field': 'url', spellcheck: 'false' });
	const desc = h('input', { id: descId, name: 'description', type: 'text', 'data-field': 'description' });
	const boxes = EVENTS.map((e) => ({ e, id: newId('ev'), box: null }));
	for (const b of boxes) b.box = h('input', { id: b.id, type: 'checkbox', value: b.e, checked: true });
	const events = h('fieldset', { class: 'field', 'data-field': 'events', id: newId('events'), tabindex: '-1' },
		h('legend', {}, t('webhooks.events')), boxes.map((b) => h('div', { class: 'check' }, b.box, h('label', { for: b.id }, b.e))));
	const go = h('button', { type: 'submit' }, t('webhooks.add'));
	const done = h('div', {});
	const form = h('form', { id: 'webhook-form', novalidate: true }, h('h2', {}, t('webhooks.add_title')),
		field(t('webhooks.url'), urlId, url, t('webhooks.url_hint')), events, field(t('webhooks.description'), descId, desc),
		h('div', { class: 'actions' }, go), done);
	form.addEventListener('submit', busy(go, async () => {
		clearProblem(form);
		done.replaceChildren();
		let r;
		try {
			r = await api('POST', '/v1/webhooks', {
				url: url.value.trim(), events: boxes.filter((b) => b.box.checked).map((b) => b.e), description: desc.value,
			});
		} catch (p) {
			showProblem(form, p);
			return;
		}
		const secretId = newId('secret');
		const msg = h('div', { class: 'note ok', tabindex: '-1', role: 'status' }, h('p', {}, t('webhooks.added')),
			field(t('webhooks.secret'), secretId, h('input', { id: secretId, type: 'text', readonly: true, value: r.data.secret || '', class: 'snippet' })));
		done.replaceChildren(msg);
		url.value = desc.value = '';
		await reload();
		msg.focus();
	}));
	return form;
}
