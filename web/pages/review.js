// Review (co-chairs): the updates waiting for review, each with Approve,
// or Return with a comment to the member who posted it.
import { all, api, get } from '../api.js';
import { busy, clearProblem, empty, field, h, loading, newId, notice, page, showProblem, t } from '../ui.js';
import { updateCard } from './action.js';

export default async function review(main, ctx) {
	page(main, t('review.title'));
	main.append(h('p', {}, t('review.intro')));
	const list = h('div', {});
	const done = h('div', {});
	main.append(done, list);
	const reload = async () => {
		list.replaceChildren(loading());
		const items = await all('/v1/updates?review_state=submitted', 500);
		const titles = {};
		await Promise.all([...new Set(items.map((u) => u.action_id))].map(async (id) => {
			titles[id] = (await get(`/v1/actions/${id}`)).title;
		}));
		list.replaceChildren(items.length
			? h('ul', { class: 'cards' }, items.map((u) => h('li', {},
				h('h2', {}, h('a', { href: `/actions/${u.action_id}` }, titles[u.action_id] || t('action.title', { id: u.action_id }))),
				updateCard(u, ctx, async (msg) => {
					done.replaceChildren(msg);
					await reload();
					msg.focus();
				}))))
			: empty('review.none'));
	};
	await reload();
}

// Approve, or Return with a comment. after(message) runs once it is done.
export function reviewControls(u, after) {
	const cid = newId('comment');
	const comment = h('textarea', { id: cid, name: 'comment', rows: '2', 'data-field': 'comment' });
	const approve = h('button', { type: 'button' }, t('review.approve'));
	const ret = h('button', { type: 'submit', class: 'warning' }, t('review.return'));
	const form = h('form', { id: newId('review'), class: 'review', novalidate: true, 'aria-label': t('review.form', { period: u.period }) },
		field(t('review.comment'), cid, comment, t('review.comment_hint')), h('div', { class: 'actions' }, approve, ret));
	const decide = (decision) => async () => {
		clearProblem(form);
		if (decision === 'return' && !comment.value.trim()) {
			showProblem(form, { errors: [{ field: 'comment', message: t('review.comment_missing') }] });
			return;
		}
		try {
			await api('POST', `/v1/updates/${u.id}/review`, { decision, comment: comment.value.trim() || null });
		} catch (p) {
			showProblem(form, p);
			return;
		}
		const msg = notice(t(decision === 'approve' ? 'review.done_approve' : 'review.done_return', { period: u.period }));
		msg.setAttribute('tabindex', '-1');
		await after(msg);
	};
	approve.addEventListener('click', busy(approve, decide('approve')));
	form.addEventListener('submit', busy(ret, decide('return')));
	return form;
}
