// tests/peer_same.sh's requests: each sent to workplan-api and to the
// benchmark's peer (bench/peer), whose answers must agree: the status, the
// media type, and the JSON (a problem's type and the fields its errors
// name; a document whole, but for the ids and times of new rows).
import assert from 'node:assert/strict';

const env = (name) => process.env[`PEER_SAME_${name}`];
const targets = { api: env('API'), peer: env('PEER') };
const led = env('LED'), other = env('OTHER'), period = env('PERIOD');
const [year] = period.split('-');
const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const viewer = bearer(env('VIEWER')), lead = bearer(env('LEAD'));
const unknown = bearer(`wpt_${'A'.repeat(43)}`);

async function send(base, { method = 'GET', path, headers = {}, body }) {
	const r = await fetch(base + path, {
		method, headers, body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
	});
	const type = (r.headers.get('content-type') || '').split(';')[0];
	const text = await r.text();
	return { status: r.status, type, json: /json$/.test(type) ? JSON.parse(text) : text, location: r.headers.get('location') };
}

// What must agree: for a problem, its type, status and the fields named;
// for a document, everything but the ids and times of rows each created.
function essence(res, fresh) {
	const { json } = res;
	if (res.type === 'application/problem+json')
		return { type: json.type, status: json.status, fields: json.errors.map((e) => e.field).sort() };
	const strip = (v) => {
		if (Array.isArray(v)) return v.map(strip);
		if (v === null || typeof v !== 'object') return v;
		return Object.fromEntries(Object.entries(v).filter(([k]) => !fresh.includes(k)).map(([k, x]) => [k, strip(x)]));
	};
	return strip(json);
}

let failures = 0, checks = 0;
async function same(name, req, { fresh = [], expect } = {}) {
	const a = await send(targets.api, typeof req === 'function' ? req('api') : req);
	const p = await send(targets.peer, typeof req === 'function' ? req('peer') : req);
	checks++;
	try {
		assert.equal(p.status, a.status, 'status');
		assert.equal(p.type, a.type, 'media type');
		if (expect) assert.equal(a.status, expect, 'the expected status');
		assert.deepEqual(essence(p, fresh), essence(a, fresh));
		console.log(`ok   ${name}: ${a.status}`);
	} catch (err) {
		failures++;
		console.log(`FAIL ${name}: ${err.message}\n  api  ${a.status} ${JSON.stringify(a.json).slice(0, 400)}\n`
			+ `  peer ${p.status} ${JSON.stringify(p.json).slice(0, 400)}`);
	}
	return { api: a, peer: p };
}

const update = { period, status: 'on_track', percent_complete: 40, narrative: 'Work goes on as planned.' };
const post = (id, headers, body = update) => ({
	method: 'POST', path: `/v1/actions/${id}/updates`, body,
	headers: { 'Content-Type': 'application/json', ...headers },
});
const posted = ['id', 'created_at'];

await same('an action', { path: `/v1/actions/${led}`, headers: viewer }, { expect: 200 });
await same('an action of another entity', { path: `/v1/actions/${other}`, headers: viewer }, { expect: 200 });
await same('an unknown action', { path: '/v1/actions/999999999', headers: viewer }, { expect: 404 });
await same('an action id that is not one', { path: '/v1/actions/01', headers: viewer }, { expect: 404 });
await same('progress at the posted quarter', { path: `/v1/progress?as_of=${period}`, headers: viewer }, { expect: 200 });
await same('progress a year earlier', { path: `/v1/progress?as_of=${year - 1}-Q2`, headers: viewer }, { expect: 200 });
await same('progress of the default quarter', { path: '/v1/progress', headers: viewer }, { expect: 200 });
await same('progress of a quarter outside the plan', { path: '/v1/progress?as_of=1990-Q1', headers: viewer }, { expect: 422 });
await same('progress of no quarter', { path: '/v1/progress?as_of=2024-Q5', headers: viewer }, { expect: 422 });
await same('progress with an unknown parameter', { path: '/v1/progress?pillar=1', headers: viewer }, { expect: 422 });
await same('no token', { path: `/v1/actions/${led}` }, { expect: 401 });
await same('an unknown token', { path: `/v1/actions/${led}`, headers: unknown }, { expect: 401 });
await same('a revoked token', { path: `/v1/progress`, headers: bearer(env('REVOKED')) }, { expect: 401 });
await same('not a bearer token', { path: `/v1/actions/${led}`, headers: { Authorization: 'Basic dXNlcjpwdw==' } }, { expect: 401 });

// posting: each its own key, the same key again, the same key for another body
const key = (t) => ({ ...lead, 'Idempotency-Key': `peer-same-${t}` });
const first = await same('a lead posts an update', (t) => post(led, key(t)), { fresh: posted, expect: 201 });
const again = await same('the same again', (t) => post(led, key(t)), { fresh: posted, expect: 201 });
for (const t of ['api', 'peer']) {
	checks++;
	try {
		assert.deepEqual(again[t].json, first[t].json, 'the replay is the stored answer');
		assert.equal(again[t].location, first[t].location, 'its Location');
		assert.match(first[t].location, /^\/v1\/updates\/\d+$/);
		console.log(`ok   ${t} replays its answer: ${first[t].location}`);
	} catch (err) {
		failures++;
		console.log(`FAIL ${t} replay: ${err.message}`);
	}
}
// one key sent four times at once: one update stored, the same answer to all
// (after a burst of reads, so that both have their connections open and
// the four overlap in the database)
for (const t of ['api', 'peer']) {
	checks++;
	await Promise.all(Array.from({ length: 32 }, () => send(targets[t], { path: `/v1/actions/${led}`, headers: lead })));
	const req = post(led, key(`${t}-at-once`), { ...update, percent_complete: 45 });
	const all = await Promise.all([1, 2, 3, 4].map(() => send(targets[t], req)));
	try {
		assert.deepEqual(all.map((r) => r.status), [201, 201, 201, 201]);
		assert.equal(new Set(all.map((r) => r.location)).size, 1, 'one Location');
		console.log(`ok   ${t} answers one key sent four times at once alike: ${all[0].location}`);
	} catch (err) {
		failures++;
		console.log(`FAIL ${t} one key at once: ${err.message} ${JSON.stringify(all.map((r) => [r.status, r.location]))}`);
	}
}
await same('the same key for another body', (t) => post(led, key(t), { ...update, percent_complete: 41 }), { expect: 409 });
await same("a lead posts on another entity's action", (t) => post(other, key(`${t}-other`)), { expect: 403 });
await same('a viewer posts', post(led, viewer), { expect: 403 });
await same('an unknown token posts', post(led, unknown), { expect: 401 });
await same('a post on no action', post(999999999, lead), { expect: 404 });
await same('a completed update at 40 %', post(led, lead, { ...update, status: 'completed' }), { expect: 422 });
await same('an update with wrong types, an unknown field and none required',
	post(led, lead, { period: 2024, status: 'fine', percent_complete: '40', colour: 'red' }), { expect: 422 });
await same('a public update without a summary', post(led, lead, { ...update, visibility: 'public' }), { expect: 422 });
await same('an update of a quarter outside the cycle', post(led, lead, { ...update, period: '1999-Q1' }), { expect: 422 });
await same('evidence that is not', post(led, lead, { ...update, evidence: [{ title: 'x', url: 'ftp://x' }, 3] }), { expect: 422 });
await same('a bad Idempotency-Key', post(led, { ...lead, 'Idempotency-Key': 'a\tb' }), { expect: 422 });
await same('malformed JSON', post(led, lead, '{"period":'), { expect: 400 });
await same('no body', post(led, lead, ''), { expect: 400 });
await same('a body not in JSON', { ...post(led, lead, 'period=x'), headers: { ...lead, 'Content-Type': 'text/plain' } }, { expect: 415 });

// after the writes: both read the update posted last (the peer's)
await same('the action after the posts', { path: `/v1/actions/${led}`, headers: viewer }, { expect: 200 });
await same('progress after the posts', { path: `/v1/progress?as_of=${period}`, headers: viewer }, { expect: 200 });

console.log(`${checks - failures}/${checks} alike`);
process.exit(failures ? 1 : 0);
