// The client of /v1. Same origin: the browser sends the session cookie
// (HttpOnly, so no script here ever sees it) and, on writes, the Origin
// header the API checks. A developer's API token, when one signed in with
// it, lives in this module's memory only: never in storage or a URL, gone
// with the page.

let token = null;
let onUnauthorized = () => {};

export const useToken = (t) => { token = t; };
export const usingToken = () => token !== null;
export const whenUnauthorized = (fn) => { onUnauthorized = fn; };

// A refused request: the RFC 9457 problem document (status, title,
// detail, errors[]), or a network failure (status 0).
export class Problem extends Error {
	constructor(status, doc) {
		super(doc?.detail || doc?.title || `HTTP ${status}`);
		Object.assign(this, doc || {}, { status });
	}
}

// One request; resolves to {status, data, headers}, throws a Problem.
export async function api(method, path, body, headers = {}) {
	const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
	if (token) init.headers.Authorization = `Bearer ${token}`;
	if (body instanceof Blob) {
		// a file, as it is: the API tells its type from its content
		init.body = body;
	} else if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(path, init);
	} catch {
		throw new Problem(0, null);
	}
	const type = r.headers.get('Content-Type') || '';
	const data = type.includes('json') ? await r.json().catch(() => null) : null;
	const text = r.ok && !type.includes('json') ? r.text() : null;
	if (!r.ok) {
		if (r.status === 401 && !path.startsWith('/v1/auth/')) onUnauthorized();
		throw new Problem(r.status, data);
	}
	return { status: r.status, data, headers: r.headers, text };
}

export const get = async (path) => (await api('GET', path)).data;

// A file of the API (a template to fill) as a Blob, whichever way the
// page signed in.
export async function download(path) {
	const init = { credentials: 'same-origin', headers: token ? { Authorization: `Bearer ${token}` } : {} };
	let r;
	try {
		r = await fetch(path, init);
	} catch {
		throw new Problem(0, null);
	}
	if (!r.ok) throw new Problem(r.status, await r.json().catch(() => null));
	return r.blob();
}

// An image of the API as a data: URL, for a page signed in with a token,
// which an <img src> could not send (a 202 while it is drawn: asked again).
export async function imageData(path) {
	for (let i = 0; i < 15; i++) {
		const r = await api('GET', path);
		if (r.status === 200) return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(await r.text)}`;
		await new Promise((ok) => setTimeout(ok, 2000));
	}
	throw new Problem(503, null);
}

// Every item of a list, following its cursors (at most max items).
export async function all(path, max = 2000) {
	const items = [];
	let next = null;
	do {
		const sep = path.includes('?') ? '&' : '?';
		const page = await get(`${path}${sep}limit=500${next ? `&after=${encodeURIComponent(next)}` : ''}`);
		items.push(...page.items);
		next = page.next;
	} while (next && items.length < max);
	return items;
}
