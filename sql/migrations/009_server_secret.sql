-- Keys the service signs with, shared by every API host: 'cursor' signs
-- list cursors, so that a client can only hand back one the service made
-- for that list. gen_random_uuid() draws on PostgreSQL's strong random
-- source; two of them give 244 random bits of the 256.
CREATE TABLE server_secret (
	name   text PRIMARY KEY,
	secret bytea NOT NULL CHECK (length(secret) = 32)
);
INSERT INTO server_secret (name, secret)
VALUES ('cursor', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
