-- What writes mail into the outbox (SPEC 11, "What notifies" and
-- "Reporting reminders"), each in the transaction of its event:
--   update-returned  a trigger on the review that returns an update;
--   report-done      a trigger on the report that becomes done;
--   reminder         schedule_notifications(at), run by every worker's
--   review-digest    scheduler with the service's clock as a parameter.
-- invitation and sign-in are written by the members' API (SPEC 10) with
-- outbox_mail(); their link is a secret, forgotten once it is no longer
-- needed (outbox_forget_link below).

-- The key unsubscribe links are signed with (see 009).
INSERT INTO server_secret (name, secret)
VALUES ('unsubscribe', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
ON CONFLICT (name) DO NOTHING;

-- The occasions of a quarter's reporting reminders (p as period_idx) and
-- the days each one may go out on: from its day until the next occasion,
-- so a worker that was down a day still sends it, and a quarter long past
-- sends nothing.
CREATE FUNCTION reminder_occasions(p int)
RETURNS TABLE (occasion text, first_day date, last_day date) LANGUAGE sql IMMUTABLE AS $$
	SELECT o.occasion, period_deadline(p) + o.first_offset, period_deadline(p) + o.last_offset
	FROM (VALUES ('14-days', -14, -4), ('3-days', -3, 0), ('overdue', 1, 7))
		AS o (occasion, first_offset, last_offset)
$$;

-- The rounds that began: one row per quarter and occasion, written by
-- the first worker to reach it.
CREATE TABLE reminder_round (
	period     int NOT NULL,
	occasion   text NOT NULL CHECK (occasion IN ('14-days', '3-days', 'overdue')),
	started_at timestamptz NOT NULL,
	PRIMARY KEY (period, occasion)
);

-- One reminder per quarter, occasion and member: the primary key, not
-- luck, keeps two workers from sending it twice (the second's INSERT waits
-- for the first's transaction, then conflicts). actions: the expected
-- actions not yet reported that it named. outbox_uid is its mail's uid.
CREATE TABLE reminder (
	period     int NOT NULL,
	occasion   text NOT NULL CHECK (occasion IN ('14-days', '3-days', 'overdue')),
	member_id  bigint NOT NULL REFERENCES member,
	actions    bigint[] NOT NULL,
	outbox_uid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	created_at timestamptz NOT NULL,
	PRIMARY KEY (period, occasion, member_id)
);
CREATE INDEX reminder_member ON reminder (member_id);

-- The review digests sent: one per co-chair and round ('2021-10-20' for
-- a daily digest, '2021-W42' for a weekly one).
CREATE TABLE review_digest_round (
	member_id  bigint NOT NULL REFERENCES member,
	round      text NOT NULL,
	outbox_uid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	created_at timestamptz NOT NULL,
	PRIMARY KEY (member_id, round)
);

-- Expected actions of quarter p not yet reported, as /v1/reporting counts
-- them (in scope, of an active pillar, not completed or cancelled a
-- quarter earlier, no update for exactly p), with what a reminder shows.
CREATE FUNCTION reporting_missing(p int)
RETURNS TABLE (action_id bigint, pillar int, leads text[], title text) LANGUAGE sql STABLE AS $$
	SELECT s.action_id, s.pillar, s.leads, a.title
	FROM cycle c
	JOIN action_period_state s ON s.cycle = c.label AND s.period = p AND s.expected AND NOT s.reported
	JOIN pillar pl ON pl.number = s.pillar AND pl.status = 'active'
	JOIN action a ON a.id = s.action_id
	WHERE p / 4 BETWEEN c.start_year AND c.end_year
$$;

-- Who is due a reminder of quarter p on an occasion, and for which
-- actions: the active members who want reminders, of the lead entities of
-- the missing actions; on the overdue occasion also the co-chairs, with
-- the whole list. A member whose entity reported has no missing action,
-- so is due nothing.
CREATE FUNCTION reminder_due(p int, occ text)
RETURNS TABLE (member_id bigint, actions bigint[]) LANGUAGE sql STABLE AS $$
	SELECT m.id, array_agg(DISTINCT r.action_id ORDER BY r.action_id)
	FROM member m JOIN reporting_missing(p) r
	  ON m.entity = ANY (r.leads) OR (occ = 'overdue' AND m.role = 'cochair')
	WHERE m.active AND m.reminders
	GROUP BY m.id
$$;

-- A reminder's mail data: the quarter, occasion, deadline and the actions.
CREATE FUNCTION reminder_data(p int, occ text, actions bigint[], cochair boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('period', period_text(p), 'occasion', occ,
		'deadline', period_deadline(p), 'cochair', cochair,
		'actions', coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'pillar', a.pillar,
			'title', a.title, 'leads', (SELECT jsonb_agg(l.entity ORDER BY l.entity)
				FROM action_lead l WHERE l.action_id = a.id)) ORDER BY a.pillar, a.id)
			FROM action a WHERE a.id = ANY (actions)), '[]'))
$$;

-- The reminders of the occasion open at instant at, once per member
-- (however many workers run this at once); returns the mails written.
CREATE FUNCTION schedule_reminders(at timestamptz) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	today date := (at AT TIME ZONE 'UTC')::date;
	-- the quarter whose reporting round runs now: the one before today's
	p int := extract(year FROM today)::int * 4 + (extract(month FROM today)::int - 1) / 3 - 1;
	occ text;
	n int;
BEGIN
	SELECT o.occasion INTO occ FROM reminder_occasions(p) o
	WHERE today BETWEEN o.first_day AND o.last_day;
	IF occ IS NULL THEN
		RETURN 0;
	END IF;
	INSERT INTO reminder_round (period, occasion, started_at) VALUES (p, occ, at)
	ON CONFLICT DO NOTHING;
	IF FOUND AND occ = 'overdue' THEN
		-- The first worker to open quarter p's overdue round tells the
		-- webhooks once (SPEC 11): which actions are missing.
		PERFORM webhook_event('reporting.overdue', jsonb_build_object(
			'period', period_text(p), 'deadline', period_deadline(p),
			'actions', coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.action_id,
				'pillar', r.pillar, 'leads', to_jsonb(r.leads)) ORDER BY r.pillar, r.action_id)
				FROM reporting_missing(p) r), '[]')), at);
	END IF;
	WITH r AS (
		INSERT INTO reminder (period, occasion, member_id, actions, created_at)
		SELECT p, occ, d.member_id, d.actions, at FROM reminder_due(p, occ) d
		ON CONFLICT DO NOTHING
		RETURNING member_id, actions, outbox_uid)
	INSERT INTO outbox (uid, channel, kind, member_id, data, created_at)
	SELECT r.outbox_uid, 'mail', 'reminder', r.member_id,
		reminder_data(p, occ, r.actions, occ = 'overdue' AND m.role = 'cochair'), at
	FROM r JOIN member m ON m.id = r.member_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- The review digests due at instant at: to each active co-chair whose
-- setting is daily (once a UTC day) or weekly (once an ISO week), the
-- updates waiting for review; none when nothing waits.
CREATE FUNCTION schedule_review_digests(at timestamptz) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	today date := (at AT TIME ZONE 'UTC')::date;
	waiting jsonb;
	n int;
BEGIN
	SELECT jsonb_build_object('count', (SELECT count(*) FROM status_update WHERE review_state = 'submitted'),
		'updates', coalesce(jsonb_agg(jsonb_build_object('id', w.id, 'action', w.action_id,
			'period', w.period, 'pillar', w.pillar, 'title', w.title) ORDER BY w.id), '[]'))
	INTO waiting
	FROM (SELECT u.id, u.action_id, u.period, a.pillar, a.title
	      FROM status_update u JOIN action a ON a.id = u.action_id
	      WHERE u.review_state = 'submitted' ORDER BY u.id LIMIT 50) w;
	IF (waiting->>'count')::int = 0 THEN
		RETURN 0;
	END IF;
	WITH d AS (
		INSERT INTO review_digest_round (member_id, round, created_at)
		SELECT m.id, CASE m.review_digest WHEN 'daily' THEN to_char(today, 'YYYY-MM-DD')
			ELSE to_char(today, 'IYYY-"W"IW') END, at
		FROM member m WHERE m.role = 'cochair' AND m.active AND m.review_digest <> 'off'
		ON CONFLICT DO NOTHING
		RETURNING member_id, outbox_uid)
	INSERT INTO outbox (uid, channel, kind, member_id, data, created_at)
	SELECT d.outbox_uid, 'mail', 'review-digest', d.member_id, waiting, at FROM d;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- What the worker's scheduler runs each round.
CREATE FUNCTION schedule_notifications(at timestamptz) RETURNS int LANGUAGE sql AS $$
	SELECT schedule_reminders(at) + schedule_review_digests(at)
$$;

-- A returned update: to its author and the members of the action's lead
-- entities, with the comment, in the review's transaction.
CREATE FUNCTION notify_update_returned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO outbox (channel, kind, member_id, data, created_at)
	SELECT 'mail', 'update-returned', m.id,
		jsonb_build_object('update', NEW.id, 'action', NEW.action_id, 'title', a.title,
			'period', NEW.period, 'comment', coalesce(NEW.review_comment, ''),
			'reviewer', coalesce((SELECT r.name FROM member r WHERE r.id = NEW.reviewed_by), '')),
		NEW.reviewed_at
	FROM member m JOIN action a ON a.id = NEW.action_id
	WHERE m.active AND (m.id = NEW.author_id
		OR m.entity IN (SELECT l.entity FROM action_lead l WHERE l.action_id = NEW.action_id));
	RETURN NULL;
END
$$;
CREATE TRIGGER notify_update_returned AFTER UPDATE OF review_state ON status_update
	FOR EACH ROW WHEN (NEW.review_state = 'returned' AND OLD.review_state <> 'returned')
	EXECUTE FUNCTION notify_update_returned();

-- A report done: to the member who asked for it (the scheduler's own
-- quarterly reports have nobody).
CREATE FUNCTION notify_report_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO outbox (channel, kind, member_id, data, created_at)
	SELECT 'mail', 'report-done', m.id,
		jsonb_build_object('report', NEW.id, 'kind', NEW.kind, 'period', NEW.period,
			'path', '/v1/reports/' || NEW.id),
		now()
	FROM member m WHERE m.id = NEW.created_by AND m.active;
	RETURN NULL;
END
$$;
CREATE TRIGGER notify_report_done AFTER UPDATE OF state ON report
	FOR EACH ROW WHEN (NEW.state = 'done' AND OLD.state <> 'done' AND NEW.created_by IS NOT NULL)
	EXECUTE FUNCTION notify_report_done();

-- A sign-in or invitation link is a secret: once its mail is sent (or
-- will never be), it is removed from the data and from the stored text,
-- and the raw message that held it is dropped.
CREATE FUNCTION outbox_forget_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.composed IS NOT NULL THEN
		NEW.composed := (NEW.composed - 'raw') || jsonb_build_object('text',
			replace(coalesce(NEW.composed->>'text', ''), coalesce(OLD.data->>'url', ''),
				'[link removed once sent]'));
	END IF;
	NEW.data := NEW.data - 'url';
	RETURN NEW;
END
$$;
CREATE TRIGGER outbox_forget_link BEFORE UPDATE OF state ON outbox
	FOR EACH ROW WHEN (NEW.kind IN ('sign-in', 'invitation') AND NEW.state IN ('sent', 'failed', 'cancelled')
		AND NEW.data ? 'url')
	EXECUTE FUNCTION outbox_forget_link();

CREATE INDEX outbox_list ON outbox (id DESC) WHERE channel = 'mail';
