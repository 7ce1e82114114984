// The quarter-end benchmark's baseline (SPEC 9): three routes of
// workplan-api written the way a team that does not write C would write
// them, with Fastify and node-postgres. Every request checks its bearer
// token in the database and runs its SQL; nothing is cached in process.
// The SQL is workplan-api's own (api/auth.c, api/h_actions.c,
// api/h_progress.c, api/h_updates.c), so the benchmark compares service
// layers, not queries. See README.md.
//
//   PEER_LISTEN        host:port to listen on (default 127.0.0.1:8091)
//   PGHOST, PGPORT, PGDATABASE, PGUSER, ...   the database (libpq's variables)
//   PEER_POOL_SIZE     connections in the pool (default 10, pg.Pool's own)
//   WORKPLAN_NOW       the service's clock, as workplan-api reads it
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const [host, port] = (process.env.PEER_LISTEN || '127.0.0.1:8091').split(/:(?=\d+$)/);
const pool = new pg.Pool({
	max: Number(process.env.PEER_POOL_SIZE || 10),
	application_name: 'workplan-peer',
});
pool.on('error', () => {}); // an idle connection lost: the pool opens another

// The clock: the system's, shifted by WORKPLAN_NOW (lib/clock.c).
const clockOffset = process.env.WORKPLAN_NOW ? Date.parse(process.env.WORKPLAN_NOW) - Date.now() : 0;
if (Number.isNaN(clockOffset)) throw new Error('WORKPLAN_NOW must be an RFC 3339 time');
const now = () => new Date(Date.now() + clockOffset);
// Quarters as lib/period.c numbers them: year * 4 + quarter - 1.
const periodOfTime = (d) => d.getUTCFullYear() * 4 + Math.floor(d.getUTCMonth() / 3);
const periodParse = (s) => {
	const m = typeof s === 'string' && /^(\d{4})-Q([1-4])$/.exec(s);
	return m && Number(m[1]) >= 1 ? Number(m[1]) * 4 + Number(m[2]) - 1 : null;
};

const STATUSES = ['not_started', 'on_track', 'at_risk', 'delayed', 'completed', 'cancelled'];
const VISIBILITIES = ['internal', 'public'];
const ROLES = { viewer: 1, lead: 2, cochair: 3 };

// ---- SQL, as workplan-api runs it ----
const AUTH_TOKEN = `WITH t AS (
	SELECT t.id, t.last_used_at, m.id AS member_id, m.role, m.entity
	FROM api_token t JOIN member m ON m.id = t.member_id
	WHERE t.hash = $1::bytea AND t.revoked_at IS NULL AND m.active
), touch AS (
	UPDATE api_token SET last_used_at = now() FROM t
	WHERE api_token.id = t.id
	  AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
) SELECT member_id, role, entity FROM t`;
const ACTION_GET = 'SELECT action_json(a) AS action FROM action a WHERE a.id = $1::bigint';
const SCOPE = `SELECT w.start_year, w.end_year, least($2::int, w.end_year * 4 + 3) AS fallback,
	(SELECT c.label FROM cycle c WHERE c.workplan_id = w.id
	 AND coalesce($1::int, least($2::int, w.end_year * 4 + 3)) / 4
	     BETWEEN c.start_year AND c.end_year) AS cycle,
	(SELECT c.label FROM cycle c WHERE c.workplan_id = w.id AND c.label = $3) AS named
	FROM workplan w ORDER BY w.id LIMIT 1`;
const COUNTS = `json_build_object(${STATUSES.map((s) => `'${s}', coalesce(${s}, 0)`).join(', ')})`;
const mean = (g) => `CASE WHEN coalesce(${g}.actions, 0) = 0 THEN 0.0
	ELSE round(${g}.percent_sum::numeric / ${g}.actions, 1) END`;
const PROGRESS = `WITH g AS (SELECT * FROM progress_agg WHERE cycle = $2 AND period = $1::int),
	t AS (SELECT sum(actions) AS actions, sum(not_started) AS not_started,
	  sum(on_track) AS on_track, sum(at_risk) AS at_risk, sum(delayed) AS delayed,
	  sum(completed) AS completed, sum(cancelled) AS cancelled,
	  sum(percent_sum) AS percent_sum, sum(stale) AS stale FROM g)
	SELECT json_build_object('as_of', period_text($1::int), 'cycle', $2,
	 'pillars', (SELECT json_agg(json_build_object('number', p.number, 'name', p.name,
	     'status', p.status, 'actions', coalesce(g.actions, 0), 'by_status', ${COUNTS},
	     'mean_percent', ${mean('g')}, 'completed', coalesce(g.completed, 0),
	     'stale', coalesce(g.stale, 0), 'last_update_at', utc_text(g.last_at)) ORDER BY p.number)
	   FROM pillar p LEFT JOIN g ON g.pillar = p.number),
	 'totals', (SELECT json_build_object('actions', coalesce(t.actions, 0),
	     'by_status', ${COUNTS}, 'mean_percent', ${mean('t')},
	     'completed', coalesce(t.completed, 0), 'stale', coalesce(t.stale, 0)) FROM t)) AS progress`;
const SET_ACTOR = "SELECT set_config('workplan.actor', $1, true)";
const IDEM_GET = `SELECT request_hash = $3::bytea AS same_request, status, location, response
	FROM idempotency_key
	WHERE member_id = $1::bigint AND key = $2 AND created_at > now() - interval '48 hours'`;
const IDEM_PUT = `INSERT INTO idempotency_key (member_id, key, request_hash, status, location, response)
	VALUES ($1::bigint, $2, $3::bytea, $4::int, $5, $6)
	ON CONFLICT (member_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
	  status = EXCLUDED.status, location = EXCLUDED.location, response = EXCLUDED.response,
	  created_at = now()
	WHERE idempotency_key.created_at <= now() - interval '48 hours'`;
const IDEM_EXPIRE = "DELETE FROM idempotency_key WHERE created_at < now() - interval '48 hours'";
const UPDATE_TARGET = `SELECT a.archived, w.start_year AS plan_start, w.end_year AS plan_end,
	c.start_year AS cycle_start, c.end_year AS cycle_end, c.label AS cycle,
	EXISTS (SELECT 1 FROM action_lead l WHERE l.action_id = a.id AND l.entity = $2) AS led
	FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id
	WHERE a.id = $1::bigint FOR SHARE OF a`;
const UPDATE_INSERT = `WITH u AS (INSERT INTO status_update (action_id, period, status,
	  percent_complete, narrative, public_summary, visibility, evidence, author_id)
	VALUES ($1::bigint, $2, $3, $4::smallint, $5, $6, $7, coalesce($8::jsonb, '[]'), $9::bigint)
	RETURNING *)
	SELECT u.id::text AS id, update_json(u)::text AS json FROM u`;
// named: node-postgres prepares each once per connection, as workplan-api does
const q = (name, text, values) => ({ name, text, values });

// ---- problems (RFC 9457), as lib/problem.h names them ----
const PROBLEMS = {
	'malformed-json': [400, 'Malformed JSON'],
	'bad-request': [400, 'Bad request'],
	unauthorized: [401, 'Unauthorized'],
	forbidden: [403, 'Forbidden'],
	'not-found': [404, 'Not found'],
	conflict: [409, 'Conflict'],
	'payload-too-large': [413, 'Payload too large'],
	'unsupported-media-type': [415, 'Unsupported media type'],
	validation: [422, 'Validation failed'],
	internal: [500, 'Internal error'],
	unavailable: [503, 'Service unavailable'],
};
class Problem extends Error {
	constructor(slug, detail, errors = []) {
		super(detail);
		this.slug = slug;
		this.errors = errors;
	}
}
const invalid = (errors) =>
	new Problem('validation', `${errors.length} field${errors.length === 1 ? ' is' : 's are'} invalid`, errors);

function sendProblem(reply, slug, detail, errors = []) {
	const [status, title] = PROBLEMS[slug];
	if (slug === 'unauthorized') reply.header('WWW-Authenticate', 'Bearer');
	if (slug === 'unavailable') reply.header('Retry-After', '1');
	return reply.code(status).type('application/problem+json')
		.send(JSON.stringify({ type: `/problems/${slug}`, title, status, detail: detail || title, errors }));
}

// ---- validation: lib/jspec.c's rules, the ones these routes use ----
const BLANK = /^[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]*$/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
function textCheck(s, multiline) {
	if (LONE_SURROGATE.test(s)) return 'must be valid UTF-8 text';
	for (const ch of s) {
		const c = ch.codePointAt(0);
		if (multiline && (c === 10 || c === 13 || c === 9)) continue;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return multiline ? 'must not contain control characters' : 'must be one line without control characters';
		if (!multiline && ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)))
			return 'must not contain bidirectional control characters';
	}
	return null;
}
const words = (s) => s.split(/\s+/u).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
function urlValid(s) {
	if (s.length > 2048 || !/^https?:\/\/[^\s]+$/i.test(s)) return false;
	try {
		const u = new URL(s);
		return !u.username && !u.password && u.hostname !== '';
	} catch {
		return false;
	}
}

const EVIDENCE = [
	{ name: 'title', type: 'string', required: true, min: 1, max: 200 },
	{ name: 'url', type: 'url', required: true },
];
const UPDATE = [
	{ name: 'period', type: 'period', required: true },
	{ name: 'status', type: 'enum', required: true, choices: STATUSES },
	{ name: 'percent_complete', type: 'int', required: true, min: 0, max: 100 },
	{ name: 'narrative', type: 'text', required: true, min: 1, max: 2700, maxWords: 300 },
	{ name: 'public_summary', type: 'text', nullable: true, min: 1, max: 900, maxWords: 100 },
	{ name: 'visibility', type: 'enum', choices: VISIBILITIES },
	{ name: 'evidence', type: 'objects', max: 20, sub: EVIDENCE },
];

function fail(errors, field, code, message, params) {
	errors.push(params ? { field, message, code, params } : { field, message, code });
	return false;
}

function checkString(f, v, path, errors) {
	if (typeof v !== 'string') return fail(errors, path, 'type', 'must be a string');
	const why = textCheck(v, f.type === 'text');
	if (why) return fail(errors, path, 'text', why);
	const n = [...v].length, max = f.max || 65536, min = f.min || 0;
	if (n < min)
		return min === 1 ? fail(errors, path, 'empty', 'must not be empty')
			: fail(errors, path, 'too_short', `must be at least ${min} characters`, { min });
	if (min >= 1 && BLANK.test(v)) return fail(errors, path, 'blank', 'must not be blank');
	if (n > max) return fail(errors, path, 'too_long', `must be at most ${max} characters`, { max });
	if (f.maxWords && words(v) > f.maxWords)
		return fail(errors, path, 'too_many_words', `must be at most ${f.maxWords} words (has ${words(v)})`,
			{ max: f.maxWords, has: words(v) });
	if (f.type === 'url' && !urlValid(v))
		return fail(errors, path, 'url', 'must be an http or https URI (RFC 3986: no user name or password,'
			+ ' other characters percent-encoded)');
	return true;
}

function checkField(f, v, path, errors) {
	switch (f.type) {
	case 'string': case 'text': case 'url':
		return checkString(f, v, path, errors);
	case 'int':
		if (!Number.isSafeInteger(v)) return fail(errors, path, 'integer', 'must be an integer');
		if (v < f.min || v > f.max)
			return fail(errors, path, 'range', `must be between ${f.min} and ${f.max}`, { min: f.min, max: f.max });
		return true;
	case 'enum':
		if (f.choices.includes(v)) return true;
		return fail(errors, path, 'choice', `must be one of: ${f.choices.join(', ')}`,
			{ allowed: f.choices.join(', ') });
	case 'period':
		return periodParse(v) !== null || fail(errors, path, 'period', 'must be a period like 2024-Q3');
	case 'objects': {
		if (!Array.isArray(v)) return fail(errors, path, 'type', 'must be an array');
		if (v.length > f.max) return fail(errors, path, 'too_many_items', `must have at most ${f.max} items`, { max: f.max });
		let ok = true;
		v.forEach((e, i) => {
			if (e === null || typeof e !== 'object' || Array.isArray(e))
				ok = fail(errors, `${path}[${i}]`, 'type', 'must be an object');
			else
				ok = checkObject(f.sub, e, `${path}[${i}]`, errors) && ok;
		});
		return ok;
	}
	}
	throw new Error(`unknown field type ${f.type}`);
}

function checkObject(spec, obj, path, errors) {
	const at = (name) => (path ? `${path}.${name}` : name);
	let ok = true;
	for (const key of Object.keys(obj))
		if (!spec.some((f) => f.name === key)) ok = fail(errors, at(key), 'unknown_field', 'is not a known field');
	for (const f of spec) {
		const v = obj[f.name];
		if (!Object.hasOwn(obj, f.name)) {
			if (f.required) ok = fail(errors, at(f.name), 'required', 'is required');
		} else if (v === null) {
			if (!f.nullable) ok = fail(errors, at(f.name), 'required', 'must not be null');
		} else {
			ok = checkField(f, v, at(f.name), errors) && ok;
		}
	}
	return ok;
}

// ---- the service ----
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

// The body as it came (its hash keys Idempotency-Key), parsed by the route;
// JSON alone.
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => done(null, body));

// Who is calling, on every request, from the database (api/auth.c's
// statement); then the route's least role.
app.addHook('onRequest', async (request, reply) => {
	if (request.is404) return; // no such route: 404 whoever asks, as workplan-api answers
	const h = request.headers.authorization;
	if (!h)
		return sendProblem(reply, 'unauthorized',
			'this resource needs a bearer token (Authorization: Bearer <token>) or a session (sign in)');
	if (!/^bearer /i.test(h) || h.length - 7 !== 47 || !h.startsWith('wpt_', 7))
		return sendProblem(reply, 'unauthorized', 'the Authorization header is not a valid bearer token');
	const hash = createHash('sha256').update(h.slice(7)).digest();
	const { rows } = await pool.query(q('auth_token', AUTH_TOKEN, [hash]));
	if (rows.length !== 1) return sendProblem(reply, 'unauthorized', 'the token is unknown or revoked');
	request.who = { id: rows[0].member_id, role: ROLES[rows[0].role] || 0, entity: rows[0].entity };
	if (request.who.role < (request.routeOptions.config.minRole || ROLES.viewer))
		return sendProblem(reply, 'forbidden', 'your role does not allow this');
});

app.setErrorHandler((err, request, reply) => {
	if (err instanceof Problem) return sendProblem(reply, err.slug, err.message, err.errors);
	if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
		return sendProblem(reply, 'unsupported-media-type', 'send the body as application/json in UTF-8');
	if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
		return sendProblem(reply, 'payload-too-large', 'the body is larger than 64 KiB');
	if (err.statusCode && err.statusCode < 500) return sendProblem(reply, 'bad-request', err.message);
	// node-postgres: no connection, or the server went away
	if (!err.code || /^(08|57P)/.test(err.code) || err.code === 'ECONNREFUSED' || err.code === 'ENOENT')
		return sendProblem(reply, 'unavailable', 'the database is unavailable');
	return sendProblem(reply, 'internal', 'an internal error occurred');
});
app.setNotFoundHandler((request, reply) => sendProblem(reply, 'not-found', 'no such resource'));

// A path id as api/http.c's request_id takes it, or null.
const pathId = (s) => (/^[1-9][0-9]{0,17}$/.test(s) ? s : null);

app.get('/v1/actions/:id', async (request, reply) => {
	const id = pathId(request.params.id);
	if (!id) throw new Problem('not-found', 'no such key action');
	const { rows } = await pool.query(q('action_get', ACTION_GET, [id]));
	if (!rows.length) throw new Problem('not-found', 'no such key action');
	return rows[0].action;
});

app.get('/v1/progress', async (request, reply) => {
	const errors = [], seen = new Set();
	let asOf = null, cycleParam = null;
	for (const [key, value] of new URLSearchParams(request.url.split('?')[1] || '')) {
		if (seen.has(key)) { fail(errors, key, undefined, 'is given more than once'); continue; }
		seen.add(key);
		if (key === 'as_of') {
			asOf = periodParse(value);
			if (asOf === null) fail(errors, key, undefined, 'must be a period like 2024-Q3');
		} else if (key === 'cycle') {
			if (value.length > 9) fail(errors, key, undefined, 'must be at most 9 characters');
			cycleParam = value;
		} else {
			fail(errors, key, undefined, 'is not a parameter of this resource');
		}
	}
	if (errors.length) throw invalid(errors.map(({ field, message }) => ({ field, message })));
	const current = periodOfTime(now());
	const { rows } = await pool.query(q('scope', SCOPE, [asOf, current, cycleParam]));
	if (rows.length !== 1) throw invalid([{ field: 'as_of', message: 'there is no work plan yet' }]);
	const s = rows[0];
	const period = asOf ?? s.fallback;
	if (Math.floor(period / 4) < s.start_year || Math.floor(period / 4) > s.end_year)
		errors.push({ field: 'as_of', message: "must lie within the work plan's years" });
	else if (period > current)
		errors.push({ field: 'as_of', message: 'must not be after the current quarter' });
	if (cycleParam !== null && s.named === null)
		errors.push({ field: 'cycle', message: 'is not a cycle of the work plan (see /v1/cycles)' });
	if (errors.length) throw invalid(errors);
	const cycle = cycleParam ?? s.cycle;
	const r = await pool.query(q('progress', PROGRESS, [period, cycle]));
	if (!r.rows.length || r.rows[0].progress === null) throw new Problem('not-found', 'no such quarter');
	return r.rows[0].progress;
});

// One transaction; workplan-api's db_transaction runs it up to 5 times
// while it asks to be retried (a concurrent request stored the same key,
// a serialization failure or a deadlock).
class Retry extends Error {}
async function transaction(fn) {
	for (let attempt = 0; ; attempt++) {
		const client = await pool.connect();
		try {
			await client.query('BEGIN');
			const result = await fn(client);
			await client.query('COMMIT');
			return result;
		} catch (err) {
			await client.query('ROLLBACK').catch(() => {});
			const again = err instanceof Retry || err.code === '40001' || err.code === '40P01';
			if (!again || attempt === 4) throw err instanceof Retry ? new Problem('conflict', 'try again') : err;
		} finally {
			client.release();
		}
	}
}

app.post('/v1/actions/:id/updates', { config: { minRole: ROLES.lead } }, async (request, reply) => {
	const raw = request.body;
	if (!raw || !raw.length) throw new Problem('malformed-json', 'this request needs a JSON body');
	let body;
	try {
		body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
	} catch (err) {
		throw new Problem('malformed-json', `the body is not valid JSON: ${err.message}`);
	}
	const action = pathId(request.params.id);
	if (!action) throw new Problem('not-found', 'no such key action');
	const errors = [];
	if (body === null || typeof body !== 'object' || Array.isArray(body)) {
		errors.push({ field: '', message: 'the body must be a JSON object' });
	} else if (checkObject(UPDATE, body, '', errors)) {
		if ((body.percent_complete === 100) !== (body.status === 'completed'))
			fail(errors, 'percent_complete', 'percent_completed', 'is 100 if and only if the status is completed');
		if (body.visibility === 'public' && (body.public_summary ?? null) === null)
			fail(errors, 'public_summary', 'summary_for_public', 'is required when visibility is public');
		if (periodParse(body.period) > periodOfTime(now()))
			fail(errors, 'period', 'period_future', 'must not be after the current quarter');
	}
	const key = request.headers['idempotency-key'];
	if (key !== undefined && (key === '' || textCheck(key, false) || Buffer.byteLength(key) > 200))
		errors.push({ field: 'Idempotency-Key', message: 'must be 1 to 200 printable characters' });
	if (errors.length) throw invalid(errors);

	const who = request.who;
	const path = request.url.split('?')[0];
	const requestHash = createHash('sha256').update(`POST\0${path}\0`).update(raw).digest();
	const out = await transaction(async (db) => {
		await db.query(q('set_actor', SET_ACTOR, [`member:${who.id}`]));
		if (key !== undefined) {
			const { rows } = await db.query(q('idem_get', IDEM_GET, [who.id, key, requestHash]));
			if (rows.length) {
				if (!rows[0].same_request)
					throw new Problem('conflict', 'this Idempotency-Key was used for a different request');
				return rows[0];
			}
		}
		const t = await db.query(q('update_target', UPDATE_TARGET, [action, who.entity]));
		if (!t.rows.length) throw new Problem('not-found', 'no such key action');
		const a = t.rows[0];
		// a lead reports only on actions their entity leads
		if (who.role !== ROLES.cochair && !a.led)
			throw new Problem('forbidden', 'only a lead entity of this key action may report on it');
		if (a.archived) throw new Problem('conflict', 'the key action is archived');
		const year = Math.floor(periodParse(body.period) / 4);
		if (year < a.plan_start || year > a.plan_end)
			throw invalid([{ field: 'period', message: "must lie within the work plan's years", code: 'period_outside_plan' }]);
		if (year < a.cycle_start || year > a.cycle_end)
			throw invalid([{ field: 'period', message: `must lie within the key action's cycle (${a.cycle})`,
				code: 'period_outside_cycle', params: { cycle: a.cycle } }]);
		const { rows } = await db.query(q('update_insert', UPDATE_INSERT, [action, body.period, body.status,
			body.percent_complete, body.narrative, body.public_summary ?? null, body.visibility || 'internal',
			body.evidence ? JSON.stringify(body.evidence) : null, who.id]));
		const created = { status: 201, location: `/v1/updates/${rows[0].id}`, response: rows[0].json };
		if (key !== undefined) {
			// keys are kept 48 hours; clear expired ones now and then
			if (Math.random() < 1 / 64) await db.query(q('idem_expire', IDEM_EXPIRE, []));
			const put = await db.query(q('idem_put', IDEM_PUT, [who.id, key, requestHash, 201, created.location,
				created.response]));
			if (put.rowCount === 0) throw new Retry(); // stored meanwhile by a concurrent request
		}
		return created;
	});
	return reply.code(out.status).header('Location', out.location).type('application/json').send(out.response);
});

await app.listen({ host, port: Number(port) });
