// The spreadsheet round trip (SPEC 14), on the Action and Reporting pages
// of those who post updates: the quarter's template to download (Excel or
// CSV) and the filled file to import. A refused import lists every bad
// cell in the error summary, as the API names it ("row 7: Percent
// complete").
import { download, api } from '../api.js';
import { busy, clearProblem, field, h, newId, notice, selectField, showProblem, t } from '../ui.js';

const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
	: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));

// periods: the quarters offered, newest first; after: called once an
// import posted something.
export function sheetTools(periods, period, after) {
	const quarter = selectField(t('sheet.period'), 'sheet-period', periods.map((p) => [p, p]), period);
	const form = h('form', { id: 'import-form', novalidate: true });
	const save = async (ext) => {
		clearProblem(form);
		const q = quarter.control.value;
		let blob;
		try {
			blob = await download(`/v1/me/template.${ext}?period=${encodeURIComponent(q)}`);
		} catch (p) {
			showProblem(form, p);
			return;
		}
		const a = h('a', { href: URL.createObjectURL(blob), download: `updates-${q}.${ext}` });
		document.body.append(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(a.href), 10000);
	};
	const xlsx = h('button', { type: 'button' }, t('sheet.download_xlsx'));
	const csv = h('button', { type: 'button' }, t('sheet.download_csv'));
	xlsx.addEventListener('click', busy(xlsx, () => save('xlsx')));
	csv.addEventListener('click', busy(csv, () => save('csv')));

	const fileId = newId('sheet-file');
	const input = h('input', { id: fileId, name: 'file', type: 'file', 'data-field': 'file',
		accept: '.xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
	const go = h('button', { type: 'submit' }, t('sheet.import'));
	const done = h('div', {});
	form.append(
		h('h2', {}, t('sheet.title')),
		h('p', {}, t('sheet.intro')),
		quarter.el,
		h('div', { class: 'actions' }, xlsx, ' ', csv),
		field(t('sheet.file'), fileId, input, t('sheet.file_hint')),
		h('div', { class: 'actions' }, go), done);
	// one key per file chosen: sending it again (a retry) posts nothing twice
	let key = newKey();
	input.addEventListener('change', () => { key = newKey(); });
	form.addEventListener('submit', busy(go, async () => {
		clearProblem(form);
		done.replaceChildren();
		const file = input.files && input.files[0];
		if (!file) {
			showProblem(form, { errors: [{ field: 'file', message: t('sheet.file_missing') }] });
			return;
		}
		let r;
		try {
			r = await api('POST', `/v1/updates/import?period=${encodeURIComponent(quarter.control.value)}`, file,
				{ 'Idempotency-Key': key });
		} catch (p) {
			showProblem(form, p);
			return;
		}
		key = newKey();
		input.value = '';
		const msg = notice(t('sheet.imported', { period: r.data.period, created: r.data.created,
			unchanged: r.data.unchanged, empty: r.data.empty_rows }));
		msg.setAttribute('tabindex', '-1');
		done.replaceChildren(msg);
		if (r.data.created) await after();
		msg.focus();
	}));
	return form;
}
