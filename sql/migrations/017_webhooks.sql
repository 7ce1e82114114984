-- Webhooks (SPEC 11): endpoints co-chairs register, and the events that
-- reach them through the outbox (016), written in the same transaction as
-- the change they tell of.
--
-- The secret signs each delivery (Standard Webhooks v1), so the service
-- must keep it, not a hash of it. It is stored sealed (lib/webhook.c:
-- a keystream and a MAC from HMAC-SHA256 under the server key 'webhook',
-- a random nonce per secret): the table, its audit rows, a dump of it or a
-- statement log show no usable secret; see docs/security.md. After a
-- rotation the previous secret signs too until previous_until (24 hours).
INSERT INTO server_secret (name, secret)
VALUES ('webhook', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- The event types (contract); lib/vocab.h lists the same.
CREATE FUNCTION webhook_event_types() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
	SELECT '{update.created,update.reviewed,report.done,report.published,reporting.overdue}'::text[]
$$;

CREATE TABLE webhook (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url             text NOT NULL CHECK (length(url) BETWEEN 10 AND 2000),
	events          text[] NOT NULL CHECK (cardinality(events) >= 1
					       AND events <@ webhook_event_types()),
	description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
	active          boolean NOT NULL DEFAULT true,
	disabled_reason text CHECK (length(disabled_reason) <= 500),
	secret          bytea NOT NULL,
	previous_secret bytea,
	previous_until  timestamptz,
	version         bigint NOT NULL DEFAULT 1,
	created_by      bigint REFERENCES member,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	CHECK (active = (disabled_reason IS NULL)),
	CHECK ((previous_secret IS NULL) = (previous_until IS NULL))
);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON webhook
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');

-- A deleted endpoint takes its deliveries (and their attempts) with it.
ALTER TABLE outbox ADD CONSTRAINT outbox_webhook_id_fkey
	FOREIGN KEY (webhook_id) REFERENCES webhook ON DELETE CASCADE;

-- When a report was built, by the worker's clock (job_report.c).
ALTER TABLE report ADD COLUMN done_at timestamptz;

-- The interface for whatever tells of an event (triggers below, the
-- reminders scheduler for reporting.overdue): one outbox row (channel
-- webhook) per active endpoint subscribed to type, in the caller's
-- transaction, so the deliveries exist exactly when the event committed.
-- data is the body's "data" and at its "timestamp" (the service's clock
-- or the row's own time). Returns how many deliveries were written.
-- An unknown type or data over 16 KB (the body must stay under 20 KB) is
-- the caller's bug and raises.
CREATE FUNCTION webhook_event(type text, data jsonb, at timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	n int;
BEGIN
	IF type IS NULL OR NOT type = ANY (webhook_event_types()) THEN
		RAISE EXCEPTION 'unknown webhook event type %', type USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF data IS NULL OR at IS NULL OR octet_length(data::text) > 16384 THEN
		RAISE EXCEPTION 'webhook event % needs data of at most 16 KB and a time', type
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO outbox (channel, kind, webhook_id, data, created_at)
	SELECT 'webhook', type, w.id, data, at FROM webhook w
	WHERE w.active AND type = ANY (w.events)
	ORDER BY w.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- What an event says of an update: no narrative (its size is unbounded by
-- the body's limit; receivers GET the update) and no person's name.
CREATE FUNCTION webhook_update_data(u status_update) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'action_id', u.action_id,
		'pillar', (SELECT a.pillar FROM action a WHERE a.id = u.action_id),
		'period', u.period, 'status', u.status, 'percent_complete', u.percent_complete,
		'visibility', u.visibility, 'review_state', u.review_state,
		'review_comment', u.review_comment, 'created_at', utc_text(u.created_at),
		'reviewed_at', utc_text(u.reviewed_at), 'path', '/v1/updates/' || u.id)
$$;

CREATE FUNCTION webhook_report_data(r report) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'kind', r.kind, 'period', r.period,
		'audience', r.audience, 'formats', to_jsonb(r.formats), 'published', r.published,
		'path', '/v1/reports/' || r.id)
$$;

-- Statement triggers over the transition tables: a bulk insert (the demo
-- generator's) costs one look at the webhook table when nobody listens.
CREATE FUNCTION webhook_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	u status_update;
	type text := CASE TG_OP WHEN 'INSERT' THEN 'update.created' ELSE 'update.reviewed' END;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM webhook w WHERE w.active AND type = ANY (w.events)) THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		FOR u IN SELECT * FROM new_rows ORDER BY id LOOP
			PERFORM webhook_event(type, webhook_update_data(u), u.created_at);
		END LOOP;
	ELSE
		FOR u IN SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
			 WHERE o.review_state = 'submitted' AND n.review_state <> 'submitted'
			 ORDER BY n.id LOOP
			PERFORM webhook_event(type, webhook_update_data(u), u.reviewed_at);
		END LOOP;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER webhook_update_created AFTER INSERT ON status_update
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_update();
CREATE TRIGGER webhook_update_reviewed AFTER UPDATE ON status_update
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_update();

-- report.done when a report's state becomes done; report.published when
-- it is first published.
CREATE FUNCTION webhook_on_report() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r report;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM webhook w WHERE w.active
		       AND w.events && '{report.done,report.published}'::text[]) THEN
		RETURN NULL;
	END IF;
	FOR r IN SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
		 WHERE n.state = 'done' AND o.state <> 'done' ORDER BY n.id LOOP
		PERFORM webhook_event('report.done', webhook_report_data(r), coalesce(r.done_at, now()));
	END LOOP;
	FOR r IN SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
		 WHERE n.published AND NOT o.published ORDER BY n.id LOOP
		PERFORM webhook_event('report.published', webhook_report_data(r), r.published_at);
	END LOOP;
	RETURN NULL;
END
$$;
CREATE TRIGGER webhook_report AFTER UPDATE ON report
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_report();

-- A webhook as the API shows it: never its secrets.
CREATE FUNCTION webhook_json(w webhook) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', w.id, 'url', w.url, 'events', to_json(w.events),
		'description', w.description, 'active', w.active,
		'disabled_reason', w.disabled_reason,
		'previous_secret_until', utc_text(w.previous_until),
		'version', w.version::text, 'created_at', utc_text(w.created_at),
		'updated_at', utc_text(w.updated_at))
$$;

-- A delivery (an outbox row of channel webhook) with its attempts.
CREATE FUNCTION webhook_delivery_json(o outbox) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', o.id, 'message_id', o.uid, 'type', o.kind,
		'state', o.state, 'created_at', utc_text(o.created_at),
		'next_attempt_at', CASE WHEN o.state = 'queued' THEN utc_text(o.due_at) END,
		'sent_at', utc_text(o.sent_at), 'last_error', o.last_error,
		'attempts', coalesce((SELECT json_agg(json_build_object('attempt', a.attempt,
				'started_at', utc_text(a.started_at), 'outcome', a.outcome,
				'response_code', a.response_code, 'duration_ms', a.duration_ms,
				'error', a.error) ORDER BY a.attempt)
			FROM outbox_attempt a WHERE a.outbox_id = o.id), '[]'))
$$;
