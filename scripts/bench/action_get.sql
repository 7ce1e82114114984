-- pgbench: the statement GET /v1/actions/{id} runs (api/h_actions.c).
\set id random(:lo, :hi)
SELECT action_json(a)::text, a.version::text FROM action a WHERE a.id = :id;
