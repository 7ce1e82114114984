// The web app in a real browser: Debian's Chromium driven by playwright-core
// against the real API and worker that tests/check_browser.c started.
//
//   node suite.mjs SCENARIO
//
// WP_URL: the API (also its WORKPLAN_PUBLIC_URL); WP_TOKEN: a co-chair's
// API token, used only to set things up and to check results through the
// API. Members sign in as people do: through the link of an invitation.
// Every page visited is judged by axe-core (WCAG 2.1 AA, no violation), and
// a Content-Security-Policy violation or an uncaught error anywhere fails
// the scenario. Prints what failed; exits 1 if anything did.
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE = process.env.WP_URL;
const TOKEN = process.env.WP_TOKEN;
const WEB = join(dirname(fileURLToPath(import.meta.url)), '../../web');
const CHROMIUM = process.env.WP_CHROMIUM || '/usr/lib/chromium/chromium';
const failures = [];
const fail = (msg) => { failures.push(msg); console.log(`FAIL: ${msg}`); };
const check = (ok, msg) => { if (!ok) fail(msg); return ok; };

// --- the API, as the co-chair's script ---------------------------------------

async function api(method, path, body, token = TOKEN) {
	const r = await fetch(BASE + path, {
		method,
		headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined,
	});
	const text = await r.text();
	let data = null;
	try { data = JSON.parse(text); } catch { /* not JSON */ }
	return { status: r.status, data, text };
}

let invited = 0;
// A new member (role, entity, language) and the link of its invitation.
async function invite(role, entity = 'OHCHR', language = 'en') {
	const n = `${Date.now()}-${process.pid}-${++invited}`;
	const r = await api('POST', '/v1/members', { name: `Browser ${role} ${n}`, email: `browser-${n}@example.org`, entity, role, language });
	if (r.status !== 201) throw new Error(`POST /v1/members: ${r.status} ${r.text}`);
	return { member: r.data.member, url: r.data.invitation.url };
}

// --- the browser ---------------------------------------------------------------

const browser = await chromium.launch({
	executablePath: CHROMIUM,
	args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', '--no-first-run', '--disable-extensions'],
});

// A context whose pages report CSP violations and uncaught errors.
async function newContext(options = {}) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', ...options });
	await ctx.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
		});
	});
	return ctx;
}

function watch(page) {
	page.on('console', (m) => {
		if (/Content[- ]Security[- ]Policy|CSP violation/i.test(m.text())) fail(`CSP: ${page.url()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => fail(`uncaught error on ${page.url()}: ${e.message}`));
	return page;
}

async function signIn(ctx, role, entity, language) {
	const { member, url } = await invite(role, entity, language);
	const page = watch(await ctx.newPage());
	check(url.startsWith(`${BASE}/sign-in#`), `the invitation link ${url} is not ${BASE}/sign-in#<token>`);
	await page.goto(url);
	await page.waitForURL(`${BASE}/`);
	await page.getByRole('heading', { level: 1 }).waitFor();
	return { page, member, token: url.split('#')[1] };
}

// The page is loaded: nothing in flight, nothing busy, nothing loading.
async function settled(page) {
	await page.waitForLoadState('networkidle');
	try {
		await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !document.querySelector('main .loading'));
	} catch {
		throw new Error(`${page.url()} never finished loading: ${await page.locator('main').innerText()}`);
	}
}

async function axe(page, what) {
	const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
	for (const v of r.violations)
		fail(`axe on ${what}: ${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// Nothing wider than the screen (a table may scroll inside its region).
async function fits(page, what) {
	const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	check(over <= 0, `${what}: the page is ${over} px wider than the screen`);
}

// --- scenarios -----------------------------------------------------------------

const PAGES = {
	cochair: ['/', '/pillars', '/pillars/1', '/actions/1', '/review', '/reporting', '/reports', '/charts',
		'/members', '/consultations', '/webhooks', '/outbox', '/no/such/page'],
	viewer: ['/', '/actions/1', '/reports', '/review'],
};

const scenarios = {
	// Signed out, every path leads to the sign-in page, which asks for an
	// address and says a link is on its way, whatever the address.
	async sign_in_page_sends_a_link() {
		const ctx = await newContext();
		const page = watch(await ctx.newPage());
		await page.goto(`${BASE}/reports`);
		await page.waitForURL(`${BASE}/sign-in`);
		await settled(page);
		await axe(page, '/sign-in');
		check(await page.getByRole('navigation').count() === 0, 'the navigation is shown to nobody signed in');
		const send = page.getByRole('button', { name: 'Send sign-in link', exact: true });
		// an empty address: the problem next to the field and in the summary
		await send.click();
		await expectSummary(page, ['Email address']);
		await page.getByLabel('Email address').fill('nobody-at-all@example.org');
		await send.click();
		await page.getByRole('status').filter({ hasText: 'nobody-at-all@example.org' }).waitFor();
		check(await page.locator('.summary').count() === 0, 'the summary stayed after the link was sent');
		await axe(page, '/sign-in after sending');
		await ctx.close();
	},

	// The invitation link signs in, and afterwards no secret is in the URL,
	// in storage, or readable by script; the cookie is HttpOnly and strict.
	async invitation_link_signs_in_and_leaves_no_secret() {
		const ctx = await newContext();
		const { page, token } = await signIn(ctx, 'viewer', 'UNICEF');
		await settled(page);
		check(page.url() === `${BASE}/`, `after sign-in the URL is ${page.url()}`);
		const seen = await page.evaluate(() => JSON.stringify({
			href: location.href, hash: location.hash, history: history.length,
			local: Object.entries(localStorage), session: Object.entries(sessionStorage), cookie: document.cookie,
		}));
		const cookies = await ctx.cookies();
		const session = cookies.find((c) => c.name === 'wp_session');
		if (check(session, 'no wp_session cookie after sign-in')) {
			check(session.httpOnly && session.sameSite === 'Strict' && session.path === '/', `wp_session is not HttpOnly, SameSite=Strict, Path=/: ${JSON.stringify(session)}`);
			check(!seen.includes(session.value), 'the session id is readable by the page');
		}
		check(!seen.includes(token), 'the sign-in token is still in the URL or in storage');
		check(!/"local":\[\[/.test(seen) && !/"session":\[\[/.test(seen), `the app stored something: ${seen}`);
		// the link works once
		const again = watch(await (await newContext()).newPage());
		await again.goto(`${BASE}/sign-in#${token}`);
		await again.getByRole('alert').filter({ hasText: 'expired or has already been used' }).waitFor();
		check(!again.url().includes(token), 'a refused link stays in the URL');
		// and signing out ends the session
		await page.getByRole('button', { name: 'Sign out', exact: true }).click();
		await page.waitForURL(`${BASE}/sign-in`);
		const me = await fetch(`${BASE}/v1/me`, { headers: { Cookie: `wp_session=${session?.value}` } });
		check(me.status === 401, `the session still works after Sign out: ${me.status}`);
		await ctx.close();
	},

	// A developer's API token signs in for the page only: never stored.
	async api_token_sign_in_stays_in_memory() {
		const ctx = await newContext();
		const page = watch(await ctx.newPage());
		await page.goto(`${BASE}/sign-in`);
		await settled(page);
		await page.getByText('Use an API token').click();
		await page.getByLabel('API token').fill('wpt_not-a-token');
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await expectSummary(page, ['API token']);
		await page.getByLabel('API token').fill(TOKEN);
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await page.waitForURL(`${BASE}/`);
		await settled(page);
		const seen = await page.evaluate(() => location.href + JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie]));
		check(!seen.includes(TOKEN), 'the API token is in the URL, storage or a cookie');
		check((await ctx.cookies()).length === 0, 'a token sign-in set a cookie');
		await ctx.close();
	},

	// Every page a co-chair sees passes axe and fits the screen at 1280 px;
	// at 320 px and right to left every page fits, and the busiest pages
	// pass axe there too (axe takes seconds a page on two shared cores).
	async every_page_is_accessible_at_1280_and_320_px() {
		const busiest = ['/', '/actions/1', '/charts'];
		for (const width of [1280, 320]) {
			const ctx = await newContext({ viewport: { width, height: 800 } });
			const { page } = await signIn(ctx, 'cochair');
			for (const path of PAGES.cochair) {
				await page.goto(BASE + path);
				await settled(page);
				if (width === 1280 || busiest.includes(path)) await axe(page, `${path} at ${width} px`);
				await fits(page, `${path} at ${width} px`);
			}
			for (const path of width === 320 ? busiest : []) {
				await page.goto(BASE + path);
				await settled(page);
				await page.evaluate(() => { document.documentElement.dir = 'rtl'; });
				await fits(page, `${path} right to left at 320 px`);
				if (path === '/') await axe(page, `${path} right to left`);
			}
			await ctx.close();
		}
	},

	// The Overview's first load, cache empty: at most 15 requests and
	// 150 KB transferred, its chart the service's SVG with the alt text of
	// the chart's .json twin.
	async overview_first_load_is_light() {
		const ctx = await newContext();
		await signIn(ctx, 'viewer', 'UNICEF');
		const state = await ctx.storageState();
		await ctx.close();
		const fresh = await newContext({ storageState: state });
		const page = watch(await fresh.newPage());
		const requests = [];
		page.on('requestfinished', (r) => requests.push(r));
		await page.goto(`${BASE}/`);
		await settled(page);
		const img = page.locator('figure img');
		await img.waitFor();
		await page.waitForFunction(() => { const i = document.querySelector('figure img'); return i && i.complete && i.naturalWidth > 0; });
		await page.waitForLoadState('networkidle');
		let bytes = 0;
		for (const r of requests) {
			const s = await r.sizes();
			bytes += s.responseBodySize + s.responseHeadersSize;
		}
		console.log(`overview first load: ${requests.length} requests, ${bytes} bytes`);
		check(requests.length <= 15, `the first load made ${requests.length} requests: ${requests.map((r) => r.url()).join(' ')}`);
		check(bytes <= 150 * 1024, `the first load transferred ${bytes} bytes`);
		const src = await img.getAttribute('src');
		check(/^\/v1\/charts\/status-by-pillar\.svg\?/.test(src), `the chart is ${src}`);
		const twin = await api('GET', src.replace('.svg?', '.json?'));
		check(twin.status === 200 && (await img.getAttribute('alt')) === twin.data.alt, 'the chart\'s alt text is not its .json twin\'s');
		// the README's picture of the Overview (docs/overview.png), as it is now
		if (process.env.WORKPLAN_TEST_LOGDIR)
			await page.screenshot({ path: join(process.env.WORKPLAN_TEST_LOGDIR, 'overview.png'), fullPage: false });
		await fresh.close();
	},

	// A pillar lead posts an update with the keyboard alone: first with
	// mistakes (the summary takes focus and leads to the field), then right.
	async update_form_works_with_the_keyboard_alone() {
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'lead', 'WHO');
		await page.goto(`${BASE}/actions/1`);
		await settled(page);
		await axe(page, '/actions/1 as a lead');
		const label = () => page.evaluate(() => {
			const a = document.activeElement;
			return (a.labels && a.labels[0] && a.labels[0].textContent) || a.getAttribute('aria-label') || a.textContent.trim();
		});
		const tabTo = async (name) => {
			for (let i = 0; i < 80; i++) {
				if (await label() === name) return;
				await page.keyboard.press('Tab');
			}
			throw new Error(`Tab never reaches "${name}"`);
		};
		await page.locator('body').focus();
		await tabTo('Period');
		await tabTo('Status');
		await page.keyboard.press('Home');
		await page.keyboard.press('ArrowDown'); // on track
		await tabTo('Percent complete');
		await page.keyboard.press('Control+A');
		await page.keyboard.type('150');
		await tabTo('Post update');
		await page.keyboard.press('Enter');
		await expectSummary(page, ['Percent complete', 'Narrative']);
		// the summary's first link leads to its field
		await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		check(await label() === 'Percent complete', `the summary's link leads to "${await label()}"`);
		await page.keyboard.press('Control+A');
		await page.keyboard.type('45');
		await tabTo('Narrative');
		await page.keyboard.type('Two field modules are ready; the third is being translated into French.');
		await tabTo('Public summary');
		await page.keyboard.type('Training modules for field staff are under way.');
		await tabTo('Show publicly');
		await page.keyboard.press('Space');
		await tabTo('Evidence links');
		await page.keyboard.type('Module outline https://example.org/outline');
		await tabTo('Post update');
		await page.keyboard.press('Enter');
		await page.getByRole('status').filter({ hasText: 'has been posted' }).waitFor();
		check(await page.locator('.summary').count() === 0, 'the summary stayed after the update was posted');
		const latest = (await api('GET', '/v1/actions/1')).data.latest;
		check(latest && latest.status === 'on_track' && latest.percent_complete === 45 && latest.visibility === 'public' &&
			latest.public_summary === 'Training modules for field staff are under way.' &&
			latest.evidence.length === 1 && latest.evidence[0].url === 'https://example.org/outline' &&
			latest.evidence[0].title === 'Module outline', `the update stored is not the one typed: ${JSON.stringify(latest)}`);
		await axe(page, '/actions/1 after posting');
		await ctx.close();
	},

	// What a role may not do is not offered.
	async roles_are_offered_only_what_they_may_do() {
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'viewer', 'UNICEF');
		const nav = page.getByRole('navigation');
		for (const name of ['Overview', 'Pillars', 'Reporting', 'Reports', 'Charts', 'Consultations'])
			check(await nav.getByRole('link', { name, exact: true }).count() === 1, `a viewer's navigation lacks ${name}`);
		for (const name of ['Review', 'Members', 'Webhooks', 'Outbox'])
			check(await nav.getByRole('link', { name, exact: true }).count() === 0, `a viewer is offered ${name}`);
		await page.goto(`${BASE}/actions/1`);
		await settled(page);
		for (const name of ['Post update', 'Approve', 'Return'])
			check(await page.getByRole('button', { name, exact: true }).count() === 0, `a viewer is offered ${name}`);
		await page.goto(`${BASE}/reports`);
		await settled(page);
		check(await page.getByRole('button', { name: 'Request report', exact: true }).count() === 0, 'a viewer is offered Request report');
		await page.goto(`${BASE}/review`);
		await settled(page);
		check(await page.getByRole('button', { name: 'Approve', exact: true }).count() === 0, 'a viewer is offered Approve');
		await axe(page, '/review as a viewer');
		await ctx.close();

		// a lead of WHO posts on pillar 1's actions, not on pillar 2's
		const lctx = await newContext();
		const lead = (await signIn(lctx, 'lead', 'WHO')).page;
		await lead.goto(`${BASE}/actions/1`);
		await settled(lead);
		check(await lead.getByRole('button', { name: 'Post update', exact: true }).count() === 1, 'a lead is not offered Post update on its action');
		check(await lead.getByRole('button', { name: 'Approve', exact: true }).count() === 0, 'a lead is offered Approve');
		await lead.goto(`${BASE}/actions/3`);
		await settled(lead);
		check(await lead.getByRole('button', { name: 'Post update', exact: true }).count() === 0, 'a lead is offered Post update on another pillar');
		const lnav = lead.getByRole('navigation');
		check(await lnav.getByRole('link', { name: 'Review', exact: true }).count() === 0, 'a lead is offered Review');
		await lctx.close();
	},

	// A co-chair returns an update (a comment is needed) and approves one.
	async cochair_reviews_updates() {
		const posted = [];
		for (const [period, status] of [['2021-Q2', 'on_track'], ['2021-Q3', 'at_risk']]) {
			const r = await api('POST', '/v1/actions/3/updates', { period, status, percent_complete: 30, narrative: `Statement drafting, ${period}.` });
			if (!check(r.status === 201, `posting the updates to review: ${r.status} ${r.text}`)) return;
			posted.push(r.data.id);
		}
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'cochair');
		await page.getByRole('navigation').getByRole('link', { name: 'Review', exact: true }).click();
		await settled(page);
		await axe(page, '/review');
		const card = (period) => page.locator('.cards > li').filter({ hasText: `Statement drafting, ${period}.` });
		await card('2021-Q3').getByRole('button', { name: 'Return', exact: true }).click();
		await expectSummary(page, ['Comment'], card('2021-Q3'));
		await card('2021-Q3').getByLabel('Comment').fill('Please say what puts the statement at risk.');
		await card('2021-Q3').getByRole('button', { name: 'Return', exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'returned' }).waitFor();
		await settled(page);
		await card('2021-Q2').getByRole('button', { name: 'Approve', exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'approved' }).waitFor();
		const states = await Promise.all(posted.map(async (id) => (await api('GET', `/v1/updates/${id}`)).data));
		check(states[0].review_state === 'approved', `the approved update is ${states[0].review_state}`);
		check(states[1].review_state === 'returned' && states[1].review_comment === 'Please say what puts the statement at risk.',
			`the returned update is ${JSON.stringify(states[1])}`);
		await ctx.close();
	},

	// A co-chair requests a report, follows it until it is built, and sees
	// its files.
	async cochair_requests_a_report_and_downloads_it() {
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'cochair');
		await page.goto(`${BASE}/reports`);
		await settled(page);
		await page.getByLabel('Quarter').selectOption('2021-Q3');
		await page.getByRole('button', { name: 'Request report', exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'is ready' }).waitFor({ timeout: 120000 });
		const link = page.getByRole('link', { name: /\.html$/ }).first();
		const href = await link.getAttribute('href');
		const file = await page.evaluate(async (u) => (await fetch(u)).status, href);
		check(file === 200, `the report's HTML file answers ${file}`);
		await axe(page, '/reports with a report');
		await ctx.close();
	},

	// Staff take a chart for a briefing note: the Charts page draws each
	// kind, and the HTML snippet copied to the clipboard carries the
	// image's URL and its alt text (the .json twin's, in English).
	async staff_copy_a_chart_snippet() {
		const ctx = await newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
		const { page } = await signIn(ctx, 'viewer', 'UNICEF');
		await page.getByRole('navigation').getByRole('link', { name: 'Charts', exact: true }).click();
		await settled(page);
		await page.getByLabel('Chart', { exact: true }).selectOption('progress-trend');
		await page.getByRole('button', { name: 'Show chart', exact: true }).click();
		await settled(page);
		await page.locator('main figure img').waitFor();
		await page.getByRole('button', { name: 'Copy HTML snippet', exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'Copied.' }).first().waitFor();
		const copied = await page.evaluate(() => navigator.clipboard.readText());
		const field = await page.getByLabel('HTML snippet with its text description', { exact: true }).inputValue();
		check(copied === field, `the clipboard holds ${copied}, the field ${field}`);
		const m = copied.match(/^<img src="([^"]+)" alt="([^"]*)">$/);
		check(m, `the snippet is ${copied}`);
		if (m) {
			const url = new URL(m[1].replaceAll('&amp;', '&'));
			check(url.origin === BASE && url.pathname === '/v1/charts/progress-trend.svg', `the snippet's image is ${m[1]}`);
			const twin = await api('GET', `${url.pathname.replace('.svg', '.json')}${url.search}`);
			const alt = m[2].replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
			check(twin.status === 200 && alt === twin.data.alt, `the snippet's alt text "${alt}" is not the chart's "${twin.data.alt}"`);
			const svg = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type')]; }, url.href);
			check(svg[0] === 200 && svg[1].startsWith('image/svg+xml'), `the snippet's image answers ${svg}`);
		}
		await axe(page, '/charts with a snippet');
		await ctx.close();
	},

	// A French-speaking co-chair's report has French headings, captions and
	// table headers: the app asks for it in the member's language.
	async a_french_cochair_gets_a_french_report() {
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'cochair', 'OHCHR', 'fr');
		await page.goto(`${BASE}/reports`);
		await settled(page);
		check(await page.getByLabel('Langue du rapport', { exact: true }).inputValue() === 'fr', 'the report language is not the member\'s');
		await page.getByLabel('Trimestre', { exact: true }).selectOption('2021-Q2');
		await page.getByRole('button', { name: 'Demander le rapport', exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'est prêt' }).waitFor({ timeout: 120000 });
		const mine = (await api('GET', '/v1/reports?limit=200')).data.items.find((r) => r.period === '2021-Q2' && r.language === 'fr');
		check(mine && mine.state === 'done', `no French report of 2021-Q2: ${JSON.stringify(mine)}`);
		const link = page.getByRole('link', { name: /\.html$/ }).first();
		const html = await page.evaluate(async (u) => (await fetch(u)).text(), await link.getAttribute('href'));
		for (const text of ['<html lang="fr"', 'Chiffres clés', 'Coprésidence en exercice', 'État des actions clés par pilier', 'Entité chef de file'])
			check(html.includes(text), `the French report's HTML lacks ${text}`);
		check(!html.includes('Headline figures'), 'the French report reads "Headline figures"');
		await axe(page, '/reports with a French report');
		await ctx.close();
	},

	// A French-speaking lead's mistakes read in French next to their fields:
	// the API names the rule (errors[].code), the catalogue words it.
	async a_french_field_error_reads_in_french() {
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'lead', 'WHO', 'fr');
		await page.goto(`${BASE}/actions/1`);
		await settled(page);
		await page.getByLabel('Pourcentage d’achèvement', { exact: true }).fill('150');
		await page.getByRole('button', { name: 'Publier la mise à jour', exact: true }).click();
		await expectSummary(page, ['Pourcentage d’achèvement', 'Compte rendu']);
		const next = async (label) => {
			const by = (await page.getByLabel(label, { exact: true }).getAttribute('aria-describedby')) || '';
			const id = by.split(' ').find((x) => x.endsWith('-error'));
			return id ? page.locator(`#${id}`).innerText() : '';
		};
		const percent = await next('Pourcentage d’achèvement');
		check(percent.includes('doit être compris entre 0 et 100'), `the percent's message reads "${percent}"`);
		const narrative = await next('Compte rendu');
		check(narrative.includes('ne doit pas être vide'), `the narrative's message reads "${narrative}"`);
		const summary = await page.locator('.summary').innerText();
		check(!/must|between/.test(summary), `the French summary reads English: ${summary}`);
		await axe(page, '/actions/1 with French field errors');
		await ctx.close();
	},

	// A co-chair invites a member from the Members page (the invitation
	// mail waits in the outbox) and deactivates another, whose open page
	// is signed out at its next step.
	async cochair_invites_and_deactivates_members() {
		const vctx = await newContext();
		const viewer = await signIn(vctx, 'viewer', 'UNICEF');
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'cochair');
		await page.getByRole('navigation').getByRole('link', { name: 'Members', exact: true }).click();
		await settled(page);
		const invite = page.getByRole('button', { name: 'Invite member', exact: true });
		await invite.click();
		await expectSummary(page, ['Name', 'Email address']);
		const email = `invited-${Date.now()}@example.org`;
		await page.getByLabel('Name', { exact: true }).fill('Amina Diallo');
		await page.getByLabel('Email address', { exact: true }).fill(email);
		await page.getByLabel('Entity', { exact: true }).selectOption('UNESCO');
		await page.getByLabel('Role', { exact: true }).selectOption('lead');
		await page.getByLabel('Language', { exact: true }).selectOption('fr');
		await invite.click();
		await page.getByRole('status').filter({ hasText: 'Amina Diallo is invited' }).waitFor();
		await settled(page);
		check(await page.getByRole('cell', { name: email }).count() === 1, 'the invited member is not listed');
		const members = (await api('GET', '/v1/members?limit=500')).data.items;
		const amina = members.find((m) => m.email === email);
		check(amina && amina.entity === 'UNESCO' && amina.role === 'lead' && amina.language === 'fr', `the member stored: ${JSON.stringify(amina)}`);
		const mail = (await api('GET', '/v1/outbox?kind=invitation&limit=500')).data.items.filter((m) => m.recipient?.email === email);
		check(mail.length === 1, `invitation mails to the new member: ${mail.length}`);
		await axe(page, '/members after an invitation');

		await page.getByRole('button', { name: `Deactivate ${viewer.member.name}`, exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'is deactivated' }).waitFor();
		const after = (await api('GET', `/v1/members/${viewer.member.id}`)).data;
		check(after.active === false, `the deactivated member is ${JSON.stringify(after)}`);
		await viewer.page.getByRole('navigation').getByRole('link', { name: 'Reports', exact: true }).click();
		await viewer.page.waitForURL(`${BASE}/sign-in`);
		await vctx.close();
		await ctx.close();
	},

	// Webhooks: a co-chair adds an endpoint (a public address this machine
	// cannot reach), sees its deliveries section, rotates its secret and
	// is shown the new one, once, with the old one's 24 hours.
	async cochair_manages_a_webhook() {
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'cochair');
		await page.getByRole('navigation').getByRole('link', { name: 'Webhooks', exact: true }).click();
		await settled(page);
		const url = `https://93.184.216.34/hook-${Date.now()}`;
		await page.getByLabel('Endpoint URL', { exact: true }).fill(url);
		await page.getByRole('button', { name: 'Add webhook', exact: true }).click();
		const first = await page.getByLabel('Signing secret', { exact: true }).inputValue();
		check(/^whsec_[A-Za-z0-9+/]{43}=$/.test(first), `the secret shown on adding: ${first}`);
		await settled(page);
		const hook = page.getByRole('region', { name: `Endpoint ${url}`, exact: true });
		await hook.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
		check(await hook.getByText('No delivery yet.', { exact: true }).count() === 1 || await hook.getByRole('table').count() === 1,
			`the deliveries section: ${await hook.innerText()}`);
		await axe(page, '/webhooks with an endpoint');

		const rotate = hook.getByRole('button', { name: `Rotate the secret of ${url}`, exact: true });
		await rotate.focus();
		await page.keyboard.press('Enter');
		await hook.getByRole('status').filter({ hasText: 'keeps working for 24 hours' }).waitFor();
		const second = await hook.getByLabel('New signing secret', { exact: true }).inputValue();
		check(/^whsec_[A-Za-z0-9+/]{43}=$/.test(second) && second !== first, `the rotated secret: ${second} (was ${first})`);
		const stored = (await api('GET', '/v1/webhooks?limit=500')).data.items.find((w) => w.url === url);
		check(stored && stored.previous_secret_until && !('secret' in stored), `the webhook after rotation: ${JSON.stringify(stored)}`);
		await axe(page, '/webhooks after a rotation');
		await ctx.close();
	},

	// The language: the member's setting, else the browser's; lang and dir
	// follow; both catalogues hold every text the code asks for.
	async languages_follow_the_member_then_the_browser() {
		const en = JSON.parse(readFileSync(join(WEB, 'i18n/en.json'), 'utf8'));
		const fr = JSON.parse(readFileSync(join(WEB, 'i18n/fr.json'), 'utf8'));
		for (const k of Object.keys(en)) check(typeof fr[k] === 'string' && fr[k].trim(), `fr.json lacks ${k}`);
		for (const k of Object.keys(fr)) check(k in en, `en.json lacks ${k}`);
		const used = new Set();
		const scan = (dir) => {
			for (const e of readdirSync(dir, { withFileTypes: true })) {
				const p = join(dir, e.name);
				if (e.isDirectory()) scan(p);
				else if (/\.(js|html)$/.test(e.name)) {
					const text = readFileSync(p, 'utf8');
					for (const m of text.matchAll(/\bt\('([a-z_.-]+)'|data-t(?:-label)?="([a-z_.-]+)"|empty\('([a-z_.-]+)'/g)) used.add(m[1] || m[2] || m[3]);
				}
			}
		};
		scan(WEB);
		for (const k of used) check(k in en, `the code asks for "${k}", which en.json lacks`);

		// signed out: the browser's language
		const fctx = await newContext({ locale: 'fr-FR' });
		const fpage = watch(await fctx.newPage());
		await fpage.goto(`${BASE}/sign-in`);
		await settled(fpage);
		check(await fpage.evaluate(() => document.documentElement.lang) === 'fr', 'a French browser does not get French');
		check(await fpage.getByRole('button', { name: 'Envoyer le lien de connexion' }).count() === 1, 'the French sign-in page lacks its button');
		await axe(fpage, '/sign-in in French');
		await fctx.close();
		// signed in: the member's setting, whatever the browser says
		const ctx = await newContext({ locale: 'en-US' });
		const { page } = await signIn(ctx, 'cochair', 'OHCHR', 'fr');
		await settled(page);
		check(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir].join()) === 'fr,ltr',
			'a French-speaking member does not get French');
		check(await page.getByRole('navigation').getByRole('link', { name: 'Vue d’ensemble' }).count() === 1, 'the French navigation is missing');
		check(await page.getByRole('heading', { level: 1, name: 'Vue d’ensemble' }).count() === 1, 'the French Overview heading is missing');
		// the chart's alt text, worded by the app from its data, in French
		const alt = await page.locator('main figure img').first().getAttribute('alt');
		check(/^Diagramme en barres empilées de l’état des actions clés du cycle \S+ dans chaque pilier .* Pilier 1, [^:]+ : \d+ actions? clés? \(/.test(alt), `the French chart's alt text reads: ${alt}`);
		for (const path of ['/', '/actions/1', '/reports', '/charts']) {
			await page.goto(BASE + path);
			await settled(page);
			await axe(page, `${path} in French`);
		}
		await ctx.close();
	},

	// A pillar lead reports a quarter from a spreadsheet (SPEC 14): downloads
	// the template from the Action page, sends it back with mistakes (every
	// bad cell is named in the summary, nothing is posted), then right.
	async lead_imports_a_spreadsheet_cell_by_cell() {
		const ctx = await newContext({ acceptDownloads: true });
		const { page } = await signIn(ctx, 'lead', 'WHO');
		await page.goto(`${BASE}/actions/1`);
		await settled(page);
		await page.getByLabel('Quarter of the template', { exact: true }).selectOption('2021-Q3');
		const [xlsx] = await Promise.all([page.waitForEvent('download'),
			page.getByRole('button', { name: 'Download template (Excel)', exact: true }).click()]);
		check(xlsx.suggestedFilename() === 'updates-2021-Q3.xlsx', `the Excel template is named ${xlsx.suggestedFilename()}`);
		const head = readFileSync(await xlsx.path()).subarray(0, 4).toString('latin1');
		check(head === 'PK\x03\x04', 'the Excel template is no ZIP (XLSX)');
		const [csvDl] = await Promise.all([page.waitForEvent('download'),
			page.getByRole('button', { name: 'Download template (CSV)', exact: true }).click()]);
		const csv = readFileSync(await csvDl.path(), 'utf8');
		const row = (text, fill) => text.replace(/^(\uFEFF?[^\n]*\n1,[^\n]*,2021-Q3),,,,,,/m, `$1,${fill}`);
		check(row(csv, 'x') !== csv, `the CSV template has no empty row for action 1: ${csv}`);
		const before = (await api('GET', '/v1/actions/1/updates?limit=500')).data.items.length;
		const send = async (text) => {
			await page.getByLabel('Filled template', { exact: true }).setInputFiles({ name: 'filled.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
			await page.getByRole('button', { name: 'Import', exact: true }).click();
		};
		await send(row(csv, 'Finished,150,,,,'));
		await expectSummary(page, ['row 2: Status', 'row 2: Percent complete', 'row 2: Narrative'], page.locator('#import-form'));
		await axe(page, '/actions/1 with the import refused');
		check((await api('GET', '/v1/actions/1/updates?limit=500')).data.items.length === before, 'a refused import posted something');
		await send(row(csv, 'On track,55,Imported from the quarter\'s sheet.,,,'));
		await page.getByRole('status').filter({ hasText: 'updates posted: 1;' }).waitFor();
		check(await page.locator('#import-form .summary').count() === 0, 'the summary stayed after the import');
		// (the action's latest may be a later quarter's: its history has it)
		const posted = (await api('GET', '/v1/actions/1/updates?limit=500')).data.items[0];
		check(posted && posted.period === '2021-Q3' && posted.percent_complete === 55 &&
			posted.narrative === 'Imported from the quarter\'s sheet.', `the update imported: ${JSON.stringify(posted)}`);
		// the Reporting page offers the same to those who post
		await page.goto(`${BASE}/reporting`);
		await settled(page);
		check(await page.getByRole('heading', { name: 'Report from a spreadsheet' }).count() === 1, 'Reporting offers no spreadsheet import to a lead');
		await axe(page, '/reporting as a lead');
		await ctx.close();
	},

	// A contributor, signed in to nothing, opens a call for inputs, sends
	// an input with a Word file through the public form and sees the
	// receipt; the API has the input with its file.
	async contributor_sends_an_input_with_a_file() {
		const c = await api('POST', '/v1/consultations', {
			title: 'Call for inputs on the Work Plan', purpose: 'Concise suggestions, please.',
			opens_at: '2021-10-01T00:00:00Z', closes_at: '2021-12-01T00:00:00Z', word_limit: 200, subject: 'Work Plan',
		});
		if (c.status !== 201) throw new Error(`POST /v1/consultations: ${c.status} ${c.text}`);
		const ctx = await newContext();
		const page = watch(await ctx.newPage());
		await page.goto(`${BASE}/calls/${c.data.id}`);
		await settled(page);
		await axe(page, '/calls/{id}');
		await fits(page, '/calls/{id}');
		check(await page.getByRole('navigation').count() === 0, 'the call page shows the members\' navigation');
		// sent empty: the problems name the fields
		await page.getByLabel('Subject', { exact: true }).fill('');
		await page.getByRole('button', { name: 'Send input', exact: true }).click();
		await expectSummary(page, ['Name', 'Email', 'Subject', 'Your input']);
		await page.getByLabel('Name', { exact: true }).fill('Amina Contributor');
		await page.getByLabel('Organisation', { exact: true }).fill('Minority Rights Forum');
		await page.getByLabel('Contributor type', { exact: true }).selectOption('ngo');
		await page.getByLabel('Country', { exact: true }).fill('KE');
		await page.getByLabel('Email', { exact: true }).fill('amina@example.org');
		await page.getByLabel('Language', { exact: true }).selectOption('en');
		await page.getByLabel('Subject', { exact: true }).fill('Work Plan: data on minorities');
		await page.getByLabel('Your input', { exact: true }).fill('Disaggregated data should guide the key actions.');
		const docx = readFileSync(join(WEB, '../workers/reference.docx'));
		await page.getByLabel('Attachment', { exact: true }).setInputFiles({ name: 'input.docx', mimeType: 'application/octet-stream', buffer: docx });
		await page.getByLabel('I agree to the processing of my data', { exact: true }).check();
		// the form token is good from 3 s after the page loaded, on the wall clock
		await page.waitForTimeout(3100);
		await page.getByRole('button', { name: 'Send input', exact: true }).click();
		await page.waitForURL(`${BASE}/calls/${c.data.id}/receipt`);
		await settled(page);
		const code = await page.locator('#receipt-code').innerText();
		check(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(code), `the receipt page shows "${code}"`);
		await axe(page, '/calls/{id}/receipt');
		await ctx.close();
	},

	// Triage (SPEC 13): a co-chair finds an input among a call's inputs,
	// tags it to a pillar, links it to a key action and answers it; the
	// action's page then shows the input. WP_INPUT: the input, in the
	// seeded call (1), untagged.
	async cochair_triages_an_input_and_the_action_shows_it() {
		const input = process.env.WP_INPUT;
		const before = await api('GET', `/v1/inputs/${input}`);
		const title = before.data.title;
		const ctx = await newContext();
		const { page } = await signIn(ctx, 'cochair');
		await page.goto(`${BASE}/consultations`);
		await settled(page);
		await page.getByRole('link', { name: /^Inputs: Call for inputs/ }).first().click();
		await page.waitForURL(`${BASE}/consultations/1/inputs`);
		await settled(page);
		await axe(page, '/consultations/1/inputs');
		// the filters keep to the URL
		await page.getByLabel('State', { exact: true }).selectOption('received');
		await page.getByRole('button', { name: 'Filter', exact: true }).click();
		await page.waitForURL(`${BASE}/consultations/1/inputs?state=received`);
		await settled(page);
		await page.getByRole('link', { name: title, exact: true }).click();
		await page.waitForURL(`${BASE}/inputs/${input}`);
		await settled(page);
		await axe(page, `/inputs/${input}`);
		check(await page.getByText('jo.triage@example.org').count() === 1, 'the co-chair does not see the contact');
		await page.getByLabel('1. Leave No One Behind', { exact: true }).check();
		const action = page.getByLabel('Pillar 1: Online comprehensive training targeting UN staff at field level', { exact: true });
		await action.waitFor();
		await action.check();
		await page.getByLabel('State', { exact: true }).selectOption('accepted');
		await page.getByLabel('Public answer', { exact: true }).fill('Taken up in the training of field staff.');
		await page.getByLabel('Note', { exact: true }).fill('Private: call back in March.');
		await page.getByRole('button', { name: 'Save triage', exact: true }).click();
		await page.getByRole('status').filter({ hasText: 'Triage saved.' }).waitFor();
		await axe(page, `/inputs/${input} after saving`);
		const after = await api('GET', `/v1/inputs/${input}`);
		check(after.data.state === 'accepted' && after.data.pillars.join() === '1' && after.data.actions.length === 1 &&
			after.data.public_answer === 'Taken up in the training of field staff.', `the input was not triaged: ${after.text}`);
		// the action's page shows it, fresh
		const actionId = after.data.actions[0].id;
		await page.getByRole('link', { name: 'Online comprehensive training targeting UN staff at field level', exact: true }).click();
		await page.waitForURL(`${BASE}/actions/${actionId}`);
		await settled(page);
		await page.getByRole('heading', { name: 'Consultation inputs that led to it' }).waitFor();
		check(await page.getByRole('link', { name: title, exact: true }).count() === 1, 'the action page does not show the input');
		check(await page.getByText('Private: call back in March.').count() === 0, 'the action page shows the private note');
		await axe(page, `/actions/${actionId} with its inputs`);
		// and so does it for a member who is no co-chair, without contact
		const viewerCtx = await newContext();
		const viewer = await signIn(viewerCtx, 'viewer', 'UNICEF');
		await viewer.page.goto(`${BASE}/actions/${actionId}`);
		await settled(viewer.page);
		check(await viewer.page.getByText(title, { exact: false }).count() >= 1, 'a viewer does not see the linked input');
		check(await viewer.page.getByText('jo.triage@example.org').count() === 0, 'a viewer sees the contact');
		await viewerCtx.close();
		await ctx.close();

		// the public outcome: not published until the call's consultation
		// report is, then each input's title and public answer, no contact
		const pctx = await newContext();
		const pub = watch(await pctx.newPage());
		await pub.goto(`${BASE}/calls/1/outcome`);
		await pub.getByText('The outcome of this call is not published yet.', { exact: true }).waitFor();
		await axe(pub, '/calls/1/outcome before publication');
		const report = await api('POST', '/v1/reports', { kind: 'consultation', consultation: 1, formats: ['md'] });
		check(report.status === 202 || report.status === 201 || report.status === 200, `the consultation report: ${report.text}`);
		const reportId = report.data.id;
		const until = Date.now() + 120000;
		let state = report.data.state;
		while (state !== 'done' && Date.now() < until) {
			await new Promise((ok) => setTimeout(ok, 1000));
			state = (await api('GET', `/v1/reports/${reportId}`)).data.state;
		}
		check(state === 'done', `the consultation report is ${state}`);
		const published = await api('POST', `/v1/reports/${reportId}/publish`);
		check(published.status < 300, `publishing the report: ${published.status} ${published.text}`);
		await pub.goto(`${BASE}/calls/1`);
		await pub.getByRole('link', { name: 'Read the outcome of this call', exact: true }).click();
		await pub.waitForURL(`${BASE}/calls/1/outcome`);
		await pub.getByRole('heading', { name: title, exact: true }).waitFor();
		await pub.getByRole('heading', { name: 'Accepted', level: 2, exact: true }).waitFor();
		check(await pub.getByText('Taken up in the training of field staff.', { exact: true }).count() === 1, 'the outcome lacks the public answer');
		for (const secret of ['jo.triage@example.org', 'Jo Triage', 'Private: call back in March.'])
			check(await pub.getByText(secret).count() === 0, `the public outcome shows ${secret}`);
		await axe(pub, '/calls/1/outcome');
		await pctx.close();
	},
};

// The summary at the top holds focus and names these fields, and each
// field shows its message and is marked invalid.
async function expectSummary(page, labels, scope = page) {
	const summary = scope.locator('.summary');
	await summary.waitFor();
	check(await page.evaluate(() => document.activeElement?.classList.contains('summary')), 'the error summary does not take focus');
	const text = await summary.innerText();
	for (const l of labels) {
		check(text.includes(l), `the summary does not name "${l}": ${text}`);
		const field = scope.getByLabel(l, { exact: true }).first();
		if (await field.count()) {
			check(await field.getAttribute('aria-invalid') === 'true', `"${l}" is not marked invalid`);
			const by = (await field.getAttribute('aria-describedby')) || '';
			const msgs = await Promise.all(by.split(' ').filter((x) => x.endsWith('-error')).map((id) => page.locator(`#${id}`).innerText()));
			check(msgs.some((m) => m.trim()), `"${l}" has no message next to it`);
		}
	}
}

const name = process.argv[2];
try {
	if (!scenarios[name]) throw new Error(`no scenario "${name}"; the scenarios: ${Object.keys(scenarios).join(' ')}`);
	await scenarios[name]();
} catch (e) {
	fail(`${name}: ${e.stack || e}`);
} finally {
	await browser.close();
}
console.log(failures.length ? `${name}: ${failures.length} failed` : `${name}: ok`);
process.exit(failures.length ? 1 : 0);
