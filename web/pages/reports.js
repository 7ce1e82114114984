// Reports: co-chairs request a quarterly report or a side-event pack and
// follow it until it is built; everyone downloads the files; co-chairs
// publish public-audience reports.
import { all, api, get } from '../api.js';
import { busy, clearProblem, empty, h, language, loading, newId, notice, num, page, quarters, selectField, showProblem, t, when } from '../ui.js';

const FORMATS = ['html', 'md', 'csv', 'json', 'docx'];
// the languages of a report's fixed texts, each named in itself
const LANGUAGES = [['en', 'English'], ['fr', 'Français']];

export default async function reports(main, ctx) {
	page(main, t('reports.title'));
	const wait = loading();
	main.append(wait);
	const list = h('div', {});
	const said = h('div', {});
	const reload = async () => {
		const items = await all('/v1/reports', 200);
		list.replaceChildren(items.length ? h('ul', { class: 'cards' }, items.map((r) => h('li', {}, reportCard(r, ctx, async (msg) => {
			said.replaceChildren(msg);
			await reload();
			msg.focus();
		})))) : empty('reports.none'));
	};
	if (ctx.isCochair()) {
		const [plans, now, events] = await Promise.all([get('/v1/workplans'), get('/v1/progress'), all('/v1/events')]);
		main.append(requestForm(Math.min(...plans.items.map((w) => w.start_year)), now.as_of, events, said, reload));
	}
	wait.remove();
	main.append(said, h('h2', {}, t('reports.list')), list);
	await reload();
}

function reportCard(r, ctx, after) {
	const files = r.artifacts.filter((a) => a.format !== 'png');
	const images = r.artifacts.filter((a) => a.format === 'png');
	const link = (a) => h('li', {}, h('a', { href: a.url, download: a.name }, a.name), ` (${a.format}, ${num(a.bytes / 1024)} KB)`);
	const parts = [
		h('h3', {}, t(`reports.kind.${r.kind}`), ` ${r.period}`, ` · #${r.id}`),
		h('p', {}, `${t('reports.state')}: ${t(`reports.state.${r.state}`)} · ${t('reports.audience')}: ${t(`reports.audience.${r.audience}`)} · ${t('reports.language')}: ${LANGUAGES.find(([l]) => l === r.language)?.[1] ?? r.language} · ${when(r.created_at)}`),
	];
	if (r.published) parts.push(h('p', {}, t('reports.published_at', { when: when(r.published_at) })));
	if (r.error) parts.push(h('p', { class: 'note' }, r.error));
	if (files.length) parts.push(h('ul', {}, files.map(link)));
	if (images.length) parts.push(h('details', {}, h('summary', {}, t('reports.images', { n: images.length })), h('ul', {}, images.map(link))));
	if (ctx.isCochair() && r.state === 'done' && r.audience === 'public' && !r.published) {
		const pub = h('button', { type: 'button' }, t('reports.publish'));
		const form = h('form', { id: newId('publish'), 'aria-label': t('reports.publish_form', { id: r.id }) }, pub);
		pub.addEventListener('click', busy(pub, async () => {
			clearProblem(form);
			try {
				await api('POST', `/v1/reports/${r.id}/publish`);
			} catch (p) {
				showProblem(form, p);
				return;
			}
			const msg = notice(t('reports.published', { id: r.id }));
			msg.setAttribute('tabindex', '-1');
			await after(msg);
		}));
		parts.push(form);
	}
	return parts;
}

function requestForm(startYear, current, events, said, reload) {
	const kind = selectField(t('reports.kind'), 'kind', [['quarterly', t('reports.kind.quarterly')], ['side-event', t('reports.kind.side-event')]], 'quarterly');
	const period = selectField(t('reports.period'), 'period', quarters(startYear, current).reverse().map((q) => [q, q]), current);
	const audience = selectField(t('reports.audience'), 'audience', [['internal', t('reports.audience.internal')], ['public', t('reports.audience.public')]], 'internal');
	// the member's language unless they choose another
	const lang = selectField(t('reports.language'), 'language', LANGUAGES, language());
	const event = selectField(t('reports.event'), 'event', events.map((e) => [String(e.id), `${e.date}: ${e.title}`]), events[0] ? String(events[0].id) : '');
	const boxes = FORMATS.map((f) => {
		const id = newId(`fmt-${f}`);
		return { f, box: h('input', { id, type: 'checkbox', name: 'formats', value: f, checked: f === 'html' || f === 'docx' }), id };
	});
	const formats = h('fieldset', { class: 'field', 'data-field': 'formats', id: newId('formats'), tabindex: '-1' },
		h('legend', {}, t('reports.formats')),
		boxes.map(({ f, box, id }) => h('div', { class: 'check' }, box, h('label', { for: id }, t(`reports.format.${f}`)))));
	const go = h('button', { type: 'submit' }, t('reports.request'));
	const progress = h('div', { role: 'status' });
	const form = h('form', { id: 'report-form', novalidate: true }, h('h2', {}, t('reports.request_title')),
		kind.el, period.el, audience.el, event.el, lang.el, formats, h('div', { class: 'actions' }, go), progress);
	const sync = () => {
		const side = kind.control.value === 'side-event';
		event.el.hidden = !side;
		audience.el.hidden = side;
	};
	kind.control.addEventListener('change', sync);
	sync();
	form.addEventListener('submit', busy(go, async () => {
		clearProblem(form);
		progress.replaceChildren();
		const side = kind.control.value === 'side-event';
		const body = {
			kind: kind.control.value,
			period: period.control.value,
			formats: boxes.filter((b) => b.box.checked).map((b) => b.f),
			language: lang.control.value,
			...(side ? { event: Number(event.control.value) || null } : { audience: audience.control.value }),
		};
		let r;
		try {
			r = await api('POST', '/v1/reports', body);
		} catch (p) {
			showProblem(form, p);
			return;
		}
		// follow it until it is built
		const where = r.headers.get('Location');
		let rep = r.data;
		for (let i = 0; i < 150 && rep && (rep.state === 'queued' || rep.state === 'running'); i++) {
			progress.replaceChildren(h('p', { class: 'loading' }, t(`reports.state.${rep.state}`)));
			await new Promise((ok) => setTimeout(ok, 2000));
			rep = await get(where);
		}
		progress.replaceChildren();
		const msg = notice(t(rep?.state === 'done' ? 'reports.ready' : 'reports.not_ready', { id: rep?.id ?? '' }), rep?.state === 'done');
		msg.setAttribute('tabindex', '-1');
		said.replaceChildren(msg);
		await reload();
		msg.focus();
	}));
	return form;
}
