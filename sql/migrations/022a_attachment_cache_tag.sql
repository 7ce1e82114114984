-- An attachment shows in no cached read (triage reads are not cached):
-- its writes (an upload, the worker's extraction) name only the tag every
-- write names (D, 023), not '*', which would empty the whole read cache
-- (data_version_bump() with no tag means everything). On a database
-- before 023, the argument is ignored, as 006's function ignores it.
DROP TRIGGER data_version ON consultation_attachment;
CREATE TRIGGER data_version AFTER INSERT OR UPDATE OR DELETE ON consultation_attachment
	FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('D');
