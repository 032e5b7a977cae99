-- The transactional outbox of destinations (issue 13). hds_put_env_var, the one writer of project_env_vars, now
-- also inserts one delivery per destination that carries the var, in the same transaction, so a crash between
-- the commit and the relay's enqueue loses nothing (the relay's sweep finds the row). Per destination and var, a
-- newer value supersedes an older undelivered one: it is never sent after the newer one.
-- Listeners (the worker's relay) get pg_notify('deliveries_pending', '') when the transaction commits.

-- Inserts the deliveries of one written value (p_enc: the env var's ciphertext, bound to project and name, so it
-- decrypts as the env var does). Returns how many it inserted.
CREATE FUNCTION hds_outbox_add(p_project uuid, p_name text, p_enc text, p_fp text, p_version integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  UPDATE deliveries d SET status = 'superseded', next_attempt_at = now()
    FROM destinations t
    WHERE t.project_id = p_project AND t.state <> 'disabled' AND (t.vars IS NULL OR t.vars ? p_name)
      AND d.destination_id = t.id AND d.var_name = p_name AND d.status IN ('pending', 'failed');
  INSERT INTO deliveries (destination_id, project_id, var_name, value_encrypted, value_fingerprint, release_version)
    SELECT t.id, p_project, p_name, p_enc, p_fp, p_version FROM destinations t
    WHERE t.project_id = p_project AND t.state <> 'disabled' AND (t.vars IS NULL OR t.vars ? p_name);
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    PERFORM pg_notify('deliveries_pending', '');
  END IF;
  RETURN n;
END;
$$;
--> statement-breakpoint
-- A new destination gets the current value of each of its vars at once (in its creation's transaction).
CREATE FUNCTION hds_outbox_initial(p_destination uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO deliveries (destination_id, project_id, var_name, value_encrypted, value_fingerprint, release_version)
    SELECT t.id, t.project_id, v.name, v.value_encrypted, v.value_fingerprint, NULL
    FROM destinations t JOIN project_env_vars v ON v.project_id = t.project_id
    WHERE t.id = p_destination AND (t.vars IS NULL OR t.vars ? v.name);
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    PERFORM pg_notify('deliveries_pending', '');
  END IF;
  RETURN n;
END;
$$;
--> statement-breakpoint
-- hds_put_env_var as in 0009, plus the outbox (the one added statement is marked).
CREATE OR REPLACE FUNCTION hds_put_env_var(
  p_project uuid,
  p_name text,
  p_enc text,
  p_fp text,
  p_red text,
  p_fps text[],
  p_source text,
  p_action text,
  p_actor text,
  p_link uuid,
  p_version integer,
  p_event uuid
) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  s project_env_vars%ROWTYPE;
  existed boolean;
BEGIN
  SELECT * INTO s FROM project_env_vars WHERE project_id = p_project AND name = p_name FOR UPDATE;
  existed := FOUND;
  IF existed AND s.value_fingerprint = ANY (p_fps) THEN RETURN false; END IF;
  INSERT INTO project_env_vars (project_id, name, value_encrypted, value_fingerprint, value_redacted, source)
    VALUES (p_project, p_name, p_enc, p_fp, p_red, p_source)
    ON CONFLICT (project_id, name) DO UPDATE SET value_encrypted = excluded.value_encrypted,
      value_fingerprint = excluded.value_fingerprint, value_redacted = excluded.value_redacted,
      source = excluded.source, updated_at = now();
  INSERT INTO audit_log (project_id, link_id, action, actor, var_name, before_redacted, after_redacted,
      before_fingerprint, after_fingerprint, release_version, event_id)
    VALUES (p_project, p_link, p_action, p_actor, p_name,
      CASE WHEN existed THEN s.value_redacted END, p_red,
      CASE WHEN existed THEN s.value_fingerprint END, p_fp, p_version, p_event);
  -- The outbox (0011).
  PERFORM hds_outbox_add(p_project, p_name, p_enc, p_fp, p_version);
  RETURN true;
END;
$$;
