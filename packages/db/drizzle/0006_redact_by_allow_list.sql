-- Redacted forms used to mask only a URL's password and a few query parameters: a Slack hook's path, a presigned
-- URL's signature or `redis://secret@host` were stored in clear in project_env_vars.value_redacted and in the audit
-- log. The code now redacts by allow-list (packages/core/src/secrets/redact.ts: scheme, host, port and database name
-- kept, every other part present masked); this migration applies the same rule to what is already stored.
-- Every stored form is a WHATWG URL serialisation (the old redactValue's `href`) or `****`, so the pattern below
-- splits it exactly: userinfo, path, query and fragment cannot hold their delimiters unencoded.
CREATE FUNCTION hds_redact_stored(stored text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  parts text[];
  scheme text;
  userinfo text;
  path text;
  segments text[];
  db text;
  query text;
  fragment text;
BEGIN
  IF stored IS NULL THEN
    RETURN NULL;
  END IF;
  parts := regexp_match(stored, '^([a-z][a-z0-9+.-]*:)//(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$');
  IF parts IS NULL OR parts[3] = '' THEN
    RETURN '****';
  END IF;
  scheme := parts[1];

  userinfo := '';
  IF coalesce(parts[2], '') <> '' THEN
    IF split_part(parts[2], ':', 1) <> '' THEN
      userinfo := '****';
    END IF;
    IF substr(parts[2], length(split_part(parts[2], ':', 1)) + 2) <> '' THEN
      userinfo := userinfo || ':****';
    END IF;
    IF userinfo <> '' THEN
      userinfo := userinfo || '@';
    END IF;
  END IF;

  path := parts[4];
  IF path NOT IN ('', '/') THEN
    IF scheme NOT IN ('postgres:', 'postgresql:', 'postgis:', 'mysql:', 'mysql2:', 'mariadb:', 'mongodb:',
        'mongodb+srv:', 'redis:', 'rediss:', 'valkey:', 'valkeys:', 'amqp:', 'amqps:', 'mssql:', 'sqlserver:',
        'cockroachdb:', 'clickhouse:') THEN
      path := '/****';
    ELSE
      segments := string_to_array(substr(path, 2), '/');
      db := CASE WHEN segments[1] ~ '^[A-Za-z0-9_.$~%-]{1,128}$' THEN segments[1] ELSE '****' END;
      IF EXISTS (SELECT 1 FROM unnest(segments[2:]) AS s WHERE s <> '') THEN
        path := '/' || db || '/****';
      ELSIF cardinality(segments) > 1 THEN
        path := '/' || db || '/';
      ELSE
        path := '/' || db;
      END IF;
    END IF;
  END IF;

  query := '';
  IF coalesce(parts[5], '') <> '' THEN
    SELECT coalesce(string_agg(
             CASE WHEN strpos(p, '=') > 0 AND split_part(p, '=', 1) ~ '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$'
                  THEN split_part(p, '=', 1) || '=****' ELSE '****' END,
             '&' ORDER BY n), '')
      INTO query
      FROM regexp_split_to_table(substr(parts[5], 2), '&') WITH ORDINALITY AS t(p, n)
      WHERE p <> '';
    IF query <> '' THEN
      query := '?' || query;
    END IF;
  END IF;

  fragment := CASE WHEN coalesce(parts[6], '') IN ('', '#') THEN '' ELSE '#****' END;
  RETURN scheme || '//' || userinfo || parts[3] || path || query || fragment;
END;
$$;
--> statement-breakpoint
UPDATE "project_env_vars" SET "value_redacted" = hds_redact_stored("value_redacted")
  WHERE "value_redacted" IS DISTINCT FROM hds_redact_stored("value_redacted");
--> statement-breakpoint
-- The audit log is append-only (0001); this one rewrite of its redacted columns removes credentials it should never
-- have held, and changes nothing else. The trigger is back on before the migration's transaction commits.
ALTER TABLE "audit_log" DISABLE TRIGGER "audit_log_append_only";
--> statement-breakpoint
UPDATE "audit_log"
  SET "before_redacted" = hds_redact_stored("before_redacted"), "after_redacted" = hds_redact_stored("after_redacted")
  WHERE "before_redacted" IS DISTINCT FROM hds_redact_stored("before_redacted")
     OR "after_redacted" IS DISTINCT FROM hds_redact_stored("after_redacted");
--> statement-breakpoint
ALTER TABLE "audit_log" ENABLE TRIGGER "audit_log_append_only";
--> statement-breakpoint
DROP FUNCTION hds_redact_stored(text);
