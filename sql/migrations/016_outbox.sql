-- Members of the second stage (SPEC 10 and 11) and the outbox every
-- notification goes through.
--
-- A member now has a language, may be deactivated (never deleted: updates
-- and the audit trail name it), and has notification settings. Its version
-- moves in the API's UPDATE only, as for pillars and actions (012).
ALTER TABLE member
	ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'fr')),
	ADD COLUMN active boolean NOT NULL DEFAULT true,
	ADD COLUMN reminders boolean NOT NULL DEFAULT true,
	ADD COLUMN review_digest text NOT NULL DEFAULT 'daily'
		CHECK (review_digest IN ('daily', 'weekly', 'off')),
	ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- The outbox (SPEC 11). A row is written in the same transaction as the
-- event it tells of, so a notification exists exactly when its event
-- committed. Workers deliver it: claimed with SKIP LOCKED under a lease,
-- each attempt logged in outbox_attempt. uid is what the receiver can
-- deduplicate on (the mail's Message-ID, the webhook-id): a worker that
-- dies after sending and before recording leaves the row to be sent again
-- under the same uid.
--
-- A mail goes to a member (its address and language are read when it is
-- composed); a webhook delivery to an endpoint (webhook_id, whose foreign
-- key comes with the webhook table). kind names what it tells of; data
-- holds what the text needs.
--
-- States: queued (due at due_at, or at once when null), sending (claimed;
-- lease_until bounds it), held (a mail composed with no SMTP server
-- configured: shown to co-chairs in GET /v1/outbox), sent, failed (after
-- its last attempt, or refused for good), cancelled (its recipient left).
-- attempts counts claims; it is also the fencing token: a worker whose
-- lease ran out can no longer record an outcome.
--
-- Times come from the service's clock (lib/clock.c), bound as parameters.
CREATE TABLE outbox (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	uid         uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	channel     text NOT NULL CHECK (channel IN ('mail', 'webhook')),
	kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9._-]{0,39}$'),
	member_id   bigint REFERENCES member,
	webhook_id  bigint,
	data        jsonb NOT NULL DEFAULT '{}',
	state       text NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'sending', 'held', 'sent', 'failed', 'cancelled')),
	attempts    int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	due_at      timestamptz,
	lease_until timestamptz,
	leased_by   text,
	-- the message as composed (a mail's subject, addressee and text), for
	-- the outbox list and so that a retry sends the same bytes
	composed    jsonb,
	created_at  timestamptz NOT NULL,
	sent_at     timestamptz,
	last_error  text,
	CHECK ((channel = 'mail') = (member_id IS NOT NULL)),
	CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox (coalesce(due_at, '-infinity'), id)
	WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_member ON outbox (member_id) WHERE member_id IS NOT NULL;
CREATE INDEX outbox_webhook ON outbox (webhook_id, id) WHERE webhook_id IS NOT NULL;

CREATE TABLE outbox_attempt (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	outbox_id     bigint NOT NULL REFERENCES outbox ON DELETE CASCADE,
	attempt       int NOT NULL,
	worker        text NOT NULL,
	started_at    timestamptz NOT NULL,
	duration_ms   int NOT NULL CHECK (duration_ms >= 0),
	outcome       text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed', 'held')),
	response_code int,
	error         text,
	UNIQUE (outbox_id, attempt)
);

-- Workers wake on the jobs' channel for new messages too.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('workplan_jobs', 'outbox');
	RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
	FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- A mail to a member, in the caller's transaction; at is the clock's now.
CREATE FUNCTION outbox_mail(member bigint, kind text, data jsonb, at timestamptz)
RETURNS bigint LANGUAGE sql AS $$
	INSERT INTO outbox (channel, kind, member_id, data, created_at)
	VALUES ('mail', kind, member, data, at)
	RETURNING id
$$;
