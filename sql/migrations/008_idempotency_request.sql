-- An Idempotency-Key is bound to the whole request it first answered: the
-- member (the key), and the hash of method, path and body. Keys stored
-- before this hashed the body alone: they no longer match any request, so
-- a retry of one is refused (409), never applied twice.
ALTER TABLE idempotency_key RENAME COLUMN body_hash TO request_hash;
ALTER TABLE idempotency_key RENAME CONSTRAINT idempotency_key_body_hash_check
	TO idempotency_key_request_hash_check;
