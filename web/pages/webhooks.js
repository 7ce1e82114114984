// Webhooks (co-chairs): endpoints that receive the service's events, signed
// as Standard Webhooks; the secret is shown once, when an endpoint is added
// or its secret rotated. Each endpoint's deliveries, with their attempts; a
// failed one can be sent again.
import { all, api } from '../api.js';
import { busy, clearProblem, empty, failure, field, h, loading, newId, notice, page, problemText, showProblem, table, t, when } from '../ui.js';

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
		endpoints.replaceChildren(...items.map((w) => endpoint(w)));
	};
	const endpoints = h('div', {});
	main.append(addForm(reload), h('h2', {}, t('webhooks.list')), list, endpoints);
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

// One endpoint: rotate its secret (the new one shown once; the old one
// still signs for 24 hours) and its deliveries.
function endpoint(w) {
	const headId = newId('hook');
	const said = h('div', {});
	const rotate = h('button', { type: 'button', class: 'secondary', 'aria-label': t('webhooks.rotate_of', { url: w.url }) }, t('webhooks.rotate'));
	rotate.addEventListener('click', busy(rotate, async () => {
		let msg;
		try {
			const r = await api('POST', `/v1/webhooks/${w.id}/rotate`);
			const secretId = newId('secret');
			msg = h('div', { class: 'note ok', role: 'status' }, h('p', {}, t('webhooks.rotated')),
				field(t('webhooks.new_secret'), secretId, h('input', { id: secretId, type: 'text', readonly: true, value: r.data.secret || '', class: 'snippet' })));
		} catch (p) {
			msg = h('p', { class: 'note', role: 'alert' }, problemText(p));
		}
		msg.setAttribute('tabindex', '-1');
		said.replaceChildren(msg);
		msg.focus();
	}));
	const list = h('div', {}, loading());
	const reload = async () => {
		try {
			const items = await all(`/v1/webhooks/${w.id}/deliveries`, 100);
			list.replaceChildren(items.length ? table(t('webhooks.deliveries_of', { url: w.url }),
				[t('webhooks.event'), t('webhooks.created'), t('webhooks.delivery_state'), t('webhooks.attempts'), t('webhooks.last_error'), t('webhooks.action')],
				items.map((d) => [d.type, when(d.created_at), t(`webhooks.state_${d.state}`),
					attempts(d.attempts || []), d.last_error || '—', d.state === 'failed' ? retry(w, d, said, reload) : '—']))
				: empty('webhooks.no_deliveries'));
		} catch (p) {
			list.replaceChildren(failure(p));
		}
	};
	reload();
	return h('section', { 'aria-labelledby': headId }, h('h3', { id: headId }, t('webhooks.endpoint', { url: w.url })),
		h('div', { class: 'actions' }, rotate), said, h('h4', {}, t('webhooks.deliveries')), list);
}

function attempts(list) {
	if (!list.length) return '—';
	return h('ul', {}, list.map((a) => h('li', {}, t('webhooks.attempt', {
		n: a.attempt, at: when(a.started_at), outcome: a.outcome, code: a.response_code ?? '—',
	}))));
}

function retry(w, d, said, reload) {
	const b = h('button', { type: 'button', 'aria-label': t('webhooks.retry_of', { type: d.type, at: when(d.created_at) }) }, t('webhooks.retry'));
	b.addEventListener('click', busy(b, async () => {
		let msg;
		try {
			await api('POST', `/v1/webhooks/${w.id}/deliveries/${d.id}/retry`);
			msg = notice(t('webhooks.retried'));
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
