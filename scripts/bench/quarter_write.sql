-- pgbench: what POST /v1/actions/{id}/updates writes (api/h_updates.c): the
-- update (on an action of the cycle reported on) and its Idempotency-Key in
-- one transaction, the triggers included.
\set action random(:lo, :hi)
\set key random(1, 1000000000)
BEGIN;
INSERT INTO status_update (action_id, period, status, percent_complete, narrative, visibility, author_id)
	SELECT a.id, :period, 'on_track', 50, 'Quarter-end update.', 'internal', :author
	FROM action a WHERE a.id >= :action AND a.cycle = :cycle ORDER BY a.id LIMIT 1;
INSERT INTO idempotency_key (member_id, key, request_hash, status, response)
	VALUES (:author, 'pgbench-' || :key || '-' || :client_id, sha256('x'), 201, '{}')
	ON CONFLICT DO NOTHING;
END;
