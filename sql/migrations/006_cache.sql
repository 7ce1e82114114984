-- The API keeps hot reads in memory (api/cache.c), valid for one data
-- version. Every write that changes what a read shows advances the data
-- version and, in the same transaction, notifies workplan_data; the
-- notification is delivered when (and only if) the transaction commits.

CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('workplan_data', nextval('data_version')::text);
	RETURN NULL;
END
$$;

-- Consultations are read through the API too.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['consultation', 'consultation_input', 'consultation_input_pillar',
				 'consultation_input_action']
	LOOP
		EXECUTE format('CREATE TRIGGER data_version AFTER INSERT OR UPDATE OR DELETE ON %I'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump()', t);
	END LOOP;
END
$$;

-- A revoked or deleted token must stop working at once, also where the API
-- remembers who a token belongs to. (Its last use, written at most once a
-- minute, changes nothing a read shows.)
CREATE FUNCTION token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('workplan_data', 'token');
	RETURN NULL;
END
$$;

CREATE TRIGGER token_changed AFTER UPDATE OF revoked_at, member_id, hash OR DELETE ON api_token
	FOR EACH STATEMENT EXECUTE FUNCTION token_changed();
