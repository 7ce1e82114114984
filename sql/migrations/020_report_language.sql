-- The language of a report's fixed texts (SPEC 12): headings, captions and
-- table headers come from the web app's catalogue of that language
-- (web/i18n/<language>.json, its report.* texts); the data is the same.
-- Two requests are the same report when they also agree on the language.

ALTER TABLE report ADD COLUMN language text NOT NULL DEFAULT 'en'
	CONSTRAINT report_language CHECK (language IN ('en', 'fr'));

DROP INDEX report_once;
CREATE UNIQUE INDEX report_once
	ON report (kind, audience, language, period, coalesce(event_id, 0), formats, data_version)
	WHERE state <> 'failed';

CREATE OR REPLACE FUNCTION report_json(r report, public boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', r.id, 'kind', r.kind, 'audience', r.audience,
		'language', r.language, 'period', r.period, 'event', r.event_id,
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
