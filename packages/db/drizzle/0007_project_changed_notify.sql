-- Every audited change of a project (a synced or hand-set env var, a state change, enable, opt-out, a webhook
-- created or deleted) tells listeners: pg_notify('project_changed', project id), once per project and statement
-- (Postgres also folds equal notifications of one transaction into one). The console's open project pages listen
-- (server-sent events); the commit's own pg_notify('project_env_changed') stays as it is.
CREATE FUNCTION audit_log_notify_project_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('project_changed', p.project_id::text) FROM (SELECT DISTINCT project_id FROM new_rows) p;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_project_changed
  AFTER INSERT ON "audit_log"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_notify_project_changed();
