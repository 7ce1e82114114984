-- Triage of a call's inputs and what comes out of it (SPEC 13): the audit
-- trail without personal data, the inputs as the API shows them, links on
-- the key actions, the consultation report, the public outcome.

-- Personal data never reaches the audit trail. audit_row() (001) copies
-- whole rows; the columns listed here are replaced in every image by the
-- fact of them: "withheld" when they held something, as they were when
-- empty or null. So the trail says that a contact was erased, and when,
-- never what it was. dedupe is a hash of the address, client_address the
-- sender's IP address, submitted_by a copy of the organisation; the text
-- is the contributor's own, often signed.
CREATE TABLE audit_private (
	table_name  text NOT NULL,
	column_name text NOT NULL,
	PRIMARY KEY (table_name, column_name)
);
INSERT INTO audit_private (table_name, column_name) VALUES
	('consultation_input', 'name'), ('consultation_input', 'email'),
	('consultation_input', 'organisation'), ('consultation_input', 'submitted_by'),
	('consultation_input', 'dedupe'), ('consultation_input', 'client_address'),
	('consultation_input', 'text'), ('consultation_input', 'summary');

CREATE FUNCTION audit_redact(img jsonb, tbl text) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN img IS NULL THEN NULL ELSE
		coalesce((SELECT jsonb_object_agg(e.key, CASE
				WHEN p.column_name IS NULL THEN e.value
				WHEN jsonb_typeof(e.value) = 'null' OR e.value = '""'::jsonb THEN e.value
				ELSE '"withheld"'::jsonb END)
			  FROM jsonb_each(img) e
			  LEFT JOIN audit_private p ON p.table_name = tbl AND p.column_name = e.key), '{}')
	END
$$;

CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	b jsonb := CASE WHEN TG_OP <> 'INSERT' THEN audit_redact(to_jsonb(OLD) - 'hash', TG_TABLE_NAME) END;
	a jsonb := CASE WHEN TG_OP <> 'DELETE' THEN audit_redact(to_jsonb(NEW) - 'hash', TG_TABLE_NAME) END;
BEGIN
	IF TG_OP = 'UPDATE' AND a - TG_ARGV[1:] = b - TG_ARGV[1:] THEN
		RETURN NEW;
	END IF;
	INSERT INTO audit (actor, table_name, op, row_key, before, after)
	VALUES (current_actor(), TG_TABLE_NAME, TG_OP,
		coalesce(a, b) ->> TG_ARGV[0], b, a);
	RETURN coalesce(NEW, OLD);
END
$$;
-- whatever an earlier trigger wrote of those columns
UPDATE audit SET before = audit_redact(before, table_name), after = audit_redact(after, table_name)
WHERE table_name IN (SELECT table_name FROM audit_private);

-- Triage is audited: a co-chair's changes to an input (its state, answer,
-- note, an erasure) and its links. The input as it arrived is its own
-- record; the worker's word count changes nothing worth a trail entry.
CREATE TRIGGER audit AFTER UPDATE OR DELETE ON consultation_input
	FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'words', 'over_word_limit');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON consultation_input_pillar
	FOR EACH ROW EXECUTE FUNCTION audit_row('input_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON consultation_input_action
	FOR EACH ROW EXECUTE FUNCTION audit_row('input_id');

-- Reading contacts is audited too (GET .../inputs.csv?contacts=true): an
-- EXPORT row says who took which call's contacts, and how many; no data.
ALTER TABLE audit DROP CONSTRAINT audit_op_check, DROP CONSTRAINT audit_check;
ALTER TABLE audit
	ADD CONSTRAINT audit_op_check CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', 'EXPORT')),
	ADD CONSTRAINT audit_check CHECK ((op IN ('INSERT', 'EXPORT')) = (before IS NULL)
					  AND (op = 'DELETE') = (after IS NULL));

-- An input as the API shows it. private: the contact and the note, which
-- only co-chairs read; full: the whole text (a list shows its start).
CREATE FUNCTION input_json(i consultation_input, with_private boolean, whole boolean) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', i.id, 'consultation', i.consultation_id, 'receipt', i.receipt,
		'received_at', utc_text(coalesce(i.received_at, i.received::timestamp AT TIME ZONE 'UTC')),
		'title', i.title, 'contributor_type', i.contributor_type, 'country', i.country,
		'language', i.language,
		'text', CASE WHEN whole THEN coalesce(nullif(i.text, ''), i.summary)
			     ELSE left(coalesce(nullif(i.text, ''), i.summary), 280) END,
		'words', i.words, 'over_word_limit', i.over_word_limit, 'state', i.state,
		'public_answer', i.public_answer,
		'pillars', coalesce((SELECT json_agg(p.pillar ORDER BY p.pillar) FROM consultation_input_pillar p
				     WHERE p.input_id = i.id), '[]'),
		'actions', coalesce((SELECT json_agg(json_build_object('id', a.id, 'pillar', a.pillar, 'title', a.title)
					ORDER BY a.id)
				     FROM consultation_input_action l JOIN action a ON a.id = l.action_id
				     WHERE l.input_id = i.id), '[]'),
		'attachment', (SELECT json_build_object('name', f.file_name, 'media_type', f.media_type,
					'bytes', f.size, 'sha256', encode(f.sha256, 'hex'), 'extraction', f.extraction,
					'words', f.words, 'url', '/v1/inputs/' || i.id || '/attachment')
			       FROM consultation_attachment f WHERE f.input_id = i.id),
		'contact', CASE WHEN with_private THEN json_build_object('name', i.name, 'email', i.email,
								    'organisation', i.organisation) END,
		'note', CASE WHEN with_private THEN i.note END,
		'contact_erased_at', utc_text(i.contact_erased_at),
		'version', i.version::text, 'updated_at', utc_text(i.updated_at))
$$;

-- May the member of entity read input i? Co-chairs read every input
-- (entity NULL here); a pillar lead those tagged with a pillar their
-- entity leads.
CREATE FUNCTION input_visible(i bigint, entity text) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT entity IS NULL OR EXISTS (
		SELECT 1 FROM consultation_input_pillar p JOIN pillar_lead l ON l.pillar = p.pillar
		WHERE p.input_id = i AND l.entity = input_visible.entity)
$$;

-- A key action shows the inputs that led to it (SPEC 13): their id,
-- receipt and title, nothing of who sent them. The API's cache is
-- dropped on every change to the links (006's trigger).
CREATE OR REPLACE FUNCTION action_json(a action) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', a.id, 'pillar', a.pillar, 'cycle', a.cycle, 'year', a.year,
		'title', a.title, 'description', a.description,
		'leads', coalesce((SELECT json_agg(l.entity ORDER BY l.position)
				   FROM action_lead l WHERE l.action_id = a.id), '[]'::json),
		'due_date', a.due_date, 'tags', a.tags, 'archived', a.archived,
		'latest', (SELECT update_json(c) FROM action_current(a.id) c WHERE c.id IS NOT NULL),
		'inputs', coalesce((SELECT json_agg(json_build_object('id', i.id, 'receipt', i.receipt,
							       'title', i.title) ORDER BY i.id)
				    FROM consultation_input_action l JOIN consultation_input i ON i.id = l.input_id
				    WHERE l.action_id = a.id), '[]'::json),
		'version', a.version::text, 'created_at', utc_text(a.created_at),
		'updated_at', utc_text(a.updated_at))
$$;

-- The consultation report (POST /v1/reports {"kind":"consultation"}):
-- a call's inputs by pillar with their state and public answer, counts by
-- contributor type, language and country, the key actions they led to.
-- Public by nature: no contact, no note, no receipt, no text is selected,
-- so none can reach a file.
ALTER TABLE report DROP CONSTRAINT report_kind_check;
ALTER TABLE report
	ADD CONSTRAINT report_kind_check CHECK (kind IN ('quarterly', 'side-event', 'consultation')),
	ADD COLUMN consultation_id bigint REFERENCES consultation,
	ADD CONSTRAINT report_consultation CHECK ((kind = 'consultation') = (consultation_id IS NOT NULL)),
	ADD CONSTRAINT report_consultation_public CHECK (kind <> 'consultation' OR audience = 'public');
DROP INDEX report_once;
CREATE UNIQUE INDEX report_once
	ON report (kind, audience, language, period, coalesce(event_id, 0), coalesce(consultation_id, 0),
		   formats, data_version)
	WHERE state <> 'failed';
CREATE INDEX report_consultation_published ON report (consultation_id) WHERE published;

CREATE OR REPLACE FUNCTION report_json(r report, public boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', r.id, 'kind', r.kind, 'audience', r.audience,
		'language', r.language, 'period', r.period, 'event', r.event_id,
		'consultation', r.consultation_id,
		'formats', r.formats, 'state', r.state, 'error', r.error,
		'data_version', r.data_version::text, 'published', r.published,
		'published_at', utc_text(r.published_at), 'created_at', utc_text(r.created_at),
		'artifacts', coalesce((SELECT json_agg(json_build_object('format', ra.format,
			'name', ra.name, 'bytes', length(a.bytes), 'sha256', encode(a.sha256, 'hex'),
			'url', CASE WHEN public THEN '/v1/public/reports/' ELSE '/v1/reports/' END
			       || r.id || '/files/' || ra.name) ORDER BY ra.name)
			FROM report_artifact ra JOIN artifact a ON a.key = ra.artifact_key
			WHERE ra.report_id = r.id), '[]'::json))
$$;

-- Counts of a column's values among a call's inputs, most frequent first
-- ("unknown" for none).
CREATE FUNCTION input_counts(cid bigint, col text) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('value', v, 'inputs', n) ORDER BY n DESC, v), '[]')
	FROM (SELECT coalesce(CASE col WHEN 'contributor_type' THEN i.contributor_type
				       WHEN 'language' THEN i.language
				       WHEN 'country' THEN i.country END, 'unknown') AS v, count(*) AS n
	      FROM consultation_input i WHERE i.consultation_id = cid GROUP BY 1) x
$$;

-- An input as the report and the outcome show it: title, state, public
-- answer, the key actions it led to.
CREATE FUNCTION input_outcome_json(i consultation_input) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', i.id, 'title', i.title, 'state', i.state,
		'public_answer', i.public_answer,
		'pillars', coalesce((SELECT json_agg(p.pillar ORDER BY p.pillar) FROM consultation_input_pillar p
				     WHERE p.input_id = i.id), '[]'),
		'actions', coalesce((SELECT json_agg(json_build_object('id', a.id, 'pillar', a.pillar, 'title', a.title)
					ORDER BY a.id)
				     FROM consultation_input_action l JOIN action a ON a.id = l.action_id
				     WHERE l.input_id = i.id), '[]'))
$$;

CREATE FUNCTION report_consultation(cid bigint) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('kind', 'consultation',
		'consultation', json_build_object('id', c.id, 'title', c.title, 'cycle', c.cycle,
			'opens_at', utc_text(c.opens_at), 'closes_at', utc_text(c.closes_at)),
		'inputs', (SELECT count(*) FROM consultation_input i WHERE i.consultation_id = cid),
		'by_state', (SELECT json_object_agg(s, (SELECT count(*) FROM consultation_input i
							 WHERE i.consultation_id = cid AND i.state = s) ORDER BY o)
			     FROM unnest('{received,under_review,accepted,partly_accepted,declined,duplicate}'::text[])
				  WITH ORDINALITY AS x (s, o)),
		'by_contributor_type', input_counts(cid, 'contributor_type'),
		'by_language', input_counts(cid, 'language'),
		'by_country', input_counts(cid, 'country'),
		'pillars', coalesce((SELECT json_agg(json_build_object('number', pl.number, 'name', pl.name,
				'inputs', (SELECT json_agg(input_outcome_json(i) ORDER BY i.id)
					   FROM consultation_input i JOIN consultation_input_pillar p ON p.input_id = i.id
					   WHERE i.consultation_id = cid AND p.pillar = pl.number)) ORDER BY pl.number)
			FROM pillar pl WHERE EXISTS (SELECT 1 FROM consultation_input i
				JOIN consultation_input_pillar p ON p.input_id = i.id
				WHERE i.consultation_id = cid AND p.pillar = pl.number)), '[]'),
		'unassigned', coalesce((SELECT json_agg(input_outcome_json(i) ORDER BY i.id)
			FROM consultation_input i WHERE i.consultation_id = cid
			AND NOT EXISTS (SELECT 1 FROM consultation_input_pillar p WHERE p.input_id = i.id)), '[]'),
		'actions', coalesce((SELECT json_agg(json_build_object('id', a.id, 'pillar', a.pillar, 'title', a.title,
				'inputs', x.n) ORDER BY a.pillar, a.id)
			FROM action a JOIN (SELECT l.action_id, count(*) AS n FROM consultation_input_action l
					    JOIN consultation_input i ON i.id = l.input_id
					    WHERE i.consultation_id = cid GROUP BY l.action_id) x ON x.action_id = a.id), '[]'))
	FROM consultation c WHERE c.id = cid
$$;

-- Erasing a contributor's contact (DELETE /v1/inputs/{id}/contact): name,
-- email and organisation blanked, with what was derived from them (the
-- dedupe hash, the sender's address, submitted_by), and the receipt mail
-- forgotten: its data and composed text (the address, the greeting)
-- cleared, unsent it never goes, its attempts' errors (a server may echo
-- the address) dropped. The audit trail keeps the fact (audit_private).
-- at: the clock's now. False when the contact was erased already.
CREATE FUNCTION input_erase_contact(input bigint, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE consultation_input SET name = NULL, email = NULL, organisation = NULL, dedupe = NULL,
		client_address = NULL, submitted_by = coalesce(contributor_type, 'withheld'),
		contact_erased_at = at, updated_at = at, version = version + 1
	WHERE id = input AND contact_erased_at IS NULL;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE outbox SET data = '{}' WHERE input_id = input;
	UPDATE outbox_attempt SET error = NULL
	WHERE outbox_id IN (SELECT id FROM outbox WHERE input_id = input);
	RETURN true;
END
$$;

-- Whatever writes a receipt mail later (a worker that claimed it before
-- the erasure) cannot bring the contact back, nor send it.
CREATE FUNCTION outbox_forget_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM consultation_input i
		   WHERE i.id = NEW.input_id AND i.contact_erased_at IS NOT NULL) THEN
		NEW.data := '{}';
		NEW.composed := NULL;
		NEW.last_error := NULL;
		IF NEW.state IN ('queued', 'held', 'sending') THEN
			NEW.state := 'cancelled';
		END IF;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER outbox_forget_erased BEFORE INSERT OR UPDATE ON outbox
	FOR EACH ROW WHEN (NEW.input_id IS NOT NULL) EXECUTE FUNCTION outbox_forget_erased();
