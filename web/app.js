// The app shell: who is signed in (GET /v1/me), the language, the
// navigation (only what the member's role may use), and the client-side
// router that loads one module per page from ./pages/.
import { api, get, Problem, useToken, usingToken, whenUnauthorized } from './api.js';
import { failure, h, loadLanguage, page, pickLanguage, t, translateStatic } from './ui.js';

const COCHAIR = 'cochair';
// path pattern, page module, who may open it
const ROUTES = [
	[/^\/sign-in$/, 'signin', 'anyone'],
	[/^\/$/, 'overview'],
	[/^\/pillars$/, 'pillars'],
	[/^\/pillars\/(\d+)$/, 'pillar'],
	[/^\/actions\/(\d+)$/, 'action'],
	[/^\/review$/, 'review', COCHAIR],
	[/^\/reporting$/, 'reporting'],
	[/^\/reports$/, 'reports'],
	[/^\/charts$/, 'charts'],
	[/^\/members$/, 'members', COCHAIR],
	[/^\/consultations$/, 'consultations'],
	[/^\/webhooks$/, 'webhooks', COCHAIR],
	[/^\/outbox$/, 'outbox', COCHAIR],
	// calls for inputs, for anyone (SPEC 13)
	[/^\/calls\/(\d+)$/, 'call', 'anyone'],
	[/^\/calls\/(\d+)\/receipt$/, 'call_receipt', 'anyone'],
	[/^\/calls\/(\d+)\/outcome$/, 'call_outcome', 'anyone'],
	// triage of a call's inputs (SPEC 13): co-chairs, and leads for their pillars
	[/^\/consultations\/(\d+)\/inputs$/, 'triage'],
	[/^\/inputs\/(\d+)$/, 'input'],
];
// the navigation: [path, catalogue key, who]
const NAV = [
	['/', 'nav.overview'], ['/pillars', 'nav.pillars'], ['/review', 'nav.review', COCHAIR],
	['/reporting', 'nav.reporting'], ['/reports', 'nav.reports'], ['/charts', 'nav.charts'],
	['/members', 'nav.members', COCHAIR], ['/consultations', 'nav.consultations'],
	['/webhooks', 'nav.webhooks', COCHAIR], ['/outbox', 'nav.outbox', COCHAIR],
];

const main = document.getElementById('main');
const ctx = {
	me: null,
	navigate,
	signedIn,
	signOut,
	// may the member post updates on this action?
	mayPost: (action) => ctx.me && (ctx.me.role === COCHAIR ||
		(ctx.me.role === 'lead' && (ctx.me.actions || []).includes(action.id))),
	isCochair: () => ctx.me?.role === COCHAIR,
};

function navigate(path, replace = false) {
	if (replace) history.replaceState(null, '', path);
	else history.pushState(null, '', path);
	return render(true);
}

// After a sign-in: who it is, in their language, then the page asked for.
async function signedIn(next = '/') {
	ctx.me = await get('/v1/me');
	await loadLanguage(pickLanguage(ctx.me.language));
	return navigate(next, true);
}

async function signOut() {
	if (usingToken()) useToken(null);
	else await api('DELETE', '/v1/auth/session').catch(() => {});
	ctx.me = null;
	return navigate('/sign-in');
}

function chrome() {
	translateStatic();
	const nav = document.getElementById('nav');
	const who = document.getElementById('who');
	nav.hidden = who.hidden = !ctx.me;
	if (!ctx.me) {
		nav.replaceChildren();
		who.replaceChildren();
		return;
	}
	const allowed = NAV.filter(([, , role]) => !role || role === ctx.me.role);
	nav.replaceChildren(h('ul', {}, allowed.map(([path, key]) => h('li', {}, h('a', { href: path }, t(key))))));
	const out = h('button', { type: 'button', class: 'secondary' }, t('signout'));
	out.addEventListener('click', () => signOut());
	who.replaceChildren(h('span', {}, t('who', { name: ctx.me.name, role: t(`role.${ctx.me.role}`) })), out);
}

function markCurrent(path) {
	for (const a of document.querySelectorAll('#nav a')) {
		const href = a.getAttribute('href');
		const here = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
		if (here) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
}

let rendering = 0;
async function render(moveFocus) {
	const n = ++rendering;
	const path = location.pathname;
	let route = null, params = [];
	for (const [re, mod, who] of ROUTES) {
		const m = path.match(re);
		if (m) {
			route = { mod, who };
			params = m.slice(1);
			break;
		}
	}
	if (route && route.who !== 'anyone' && !ctx.me) return navigate('/sign-in', true);
	chrome();
	markCurrent(path);
	main.setAttribute('aria-busy', 'true');
	try {
		if (!route) {
			page(main, t('notfound.title'));
			main.append(h('p', {}, t('notfound.body')), h('p', {}, h('a', { href: '/' }, t('nav.overview'))));
		} else if (route.who === COCHAIR && ctx.me.role !== COCHAIR) {
			page(main, t('forbidden.title'));
			main.append(h('p', {}, t('error.forbidden')));
		} else {
			const mod = await import(`./pages/${route.mod}.js`);
			if (n !== rendering) return;
			await mod.default(main, { ...ctx, params, query: new URLSearchParams(location.search) });
		}
	} catch (e) {
		if (n !== rendering) return;
		for (const l of main.querySelectorAll('.loading')) l.remove();
		main.append(failure(e instanceof Problem ? e : { status: -1 }));
		console.error(e);
	} finally {
		if (n === rendering) main.removeAttribute('aria-busy');
	}
	if (moveFocus && n === rendering) main.querySelector('h1')?.focus();
}

// Links inside the app change the page without loading it again.
document.addEventListener('click', (ev) => {
	const a = ev.target.closest('a[href]');
	if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
	const href = a.getAttribute('href');
	if (!href.startsWith('/') || href.startsWith('//') || href.startsWith('/v1/') || a.hasAttribute('download') || a.target) return;
	ev.preventDefault();
	navigate(href);
});
window.addEventListener('popstate', () => render(true));
whenUnauthorized(() => {
	if (ctx.me && !usingToken()) {
		ctx.me = null;
		navigate('/sign-in', true);
	}
});

async function boot() {
	// a sign-in link: its token leaves the URL before anything else runs
	if (location.pathname === '/sign-in' && location.hash.length > 1) {
		const token = decodeURIComponent(location.hash.slice(1));
		history.replaceState(null, '', '/sign-in');
		await loadLanguage(pickLanguage());
		const mod = await import('./pages/signin.js');
		return mod.exchange(main, ctx, token);
	}
	const [me] = await Promise.allSettled([get('/v1/me'), loadLanguage(pickLanguage())]);
	if (me.status === 'fulfilled') {
		ctx.me = me.value;
		await loadLanguage(pickLanguage(ctx.me.language));
	}
	return render(false);
}

boot();
