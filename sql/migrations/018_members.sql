-- Sign-in without a password, and browser sessions (SPEC 10).
--
-- A sign-in token is an invitation (valid 7 days) or a sign-in link (15
-- minutes), used once; a session is what the wp_session cookie names.
-- Both are random (256 bits) and kept only as their SHA-256, as API tokens
-- are. Their times come from the service's clock (lib/clock.c), bound as
-- parameters: created_at and expiry are business rules here.
CREATE TABLE signin_token (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id   bigint NOT NULL REFERENCES member,
	kind        text NOT NULL CHECK (kind IN ('invitation', 'link')),
	hash        bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
	created_by  bigint REFERENCES member,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL CHECK (expires_at > created_at),
	used_at     timestamptz
);
CREATE INDEX signin_token_member ON signin_token (member_id);

-- Every request for a sign-in link, known address or not: what the
-- per-address budget of links counts, and a write on both paths, so that
-- an answer about an unknown address takes as long as one about a member
-- (a commit that wrote nothing would skip the WAL flush). Only the hash
-- of the address is kept: unknown addresses are no one's business.
CREATE TABLE signin_request (
	email_hash bytea NOT NULL CHECK (length(email_hash) = 32),
	created_at timestamptz NOT NULL
);
CREATE INDEX signin_request_email ON signin_request (email_hash, created_at);

-- A session ends when its member signs out (ended_at), after 12 hours
-- without a request (last_seen_at, written at most once a minute) or at
-- expires_at (14 days after it began), whichever comes first.
CREATE TABLE member_session (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id    bigint NOT NULL REFERENCES member,
	hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
	ended_at     timestamptz
);
CREATE INDEX member_session_member ON member_session (member_id) WHERE ended_at IS NULL;

-- An ended session stops working at once, also where an API remembers it
-- (api/cache.c), as a revoked token does (006).
CREATE TRIGGER session_changed AFTER UPDATE OF ended_at, member_id, hash OR DELETE
	ON member_session FOR EACH STATEMENT EXECUTE FUNCTION token_changed();

-- Addresses come from outside: one line of printable characters. The
-- API checks more (lib/jspec.c, email_check); this holds for every writer.
ALTER TABLE member ADD CONSTRAINT member_email_printable CHECK (email !~ '[[:cntrl:]]');
ALTER TABLE member ADD CONSTRAINT member_name_printable CHECK (name !~ '[[:cntrl:]]');

-- The Network always keeps an active co-chair: no change may leave none
-- where there was one. Concurrent changes wait for one another on the
-- advisory lock, and the count is read after it is taken (a volatile
-- function's query sees what committed meanwhile), so two co-chairs
-- demoting each other at once cannot both succeed.
CREATE FUNCTION member_keep_cochair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT (OLD.role = 'cochair' AND OLD.active) OR
	   (TG_OP = 'UPDATE' AND NEW.role = 'cochair' AND NEW.active) THEN
		RETURN NULL;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('member_keep_cochair'));
	IF NOT EXISTS (SELECT 1 FROM member WHERE role = 'cochair' AND active) THEN
		RAISE EXCEPTION 'the last active co-chair cannot be removed, deactivated or demoted'
			USING ERRCODE = 'check_violation', CONSTRAINT = 'member_last_cochair';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER member_keep_cochair AFTER UPDATE OF role, active OR DELETE ON member
	FOR EACH ROW EXECUTE FUNCTION member_keep_cochair();

-- A member as the API shows it (GET /v1/members/{id}, and inside /v1/me).
CREATE FUNCTION member_json(m member) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', m.id, 'name', m.name, 'email', m.email, 'entity', m.entity, 'role', m.role,
		'language', m.language, 'active', m.active, 'created_at', utc_text(m.created_at),
		'version', m.version::text)
$$;
