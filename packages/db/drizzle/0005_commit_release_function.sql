-- The commit of a release, in one round trip (the hot path: see docs/adr/0002). Everything happens in one
-- transaction under the link's row lock, each statement with a fresh snapshot (READ COMMITTED), so a commit that
-- waited for another sees what that one wrote:
--   1. lock the link; a disabled link, or a version not above the applied one (the version guard), changes nothing;
--   2. the caller computed the values with the link's mappings as it read them: if they changed since, nothing is
--      written and the caller recomputes;
--   3. each value whose fingerprint differs from the stored one (under any current key: p_values[].fps) is
--      upserted (encrypted by the caller) with an audit row holding only redacted forms and fingerprints;
--   4. the link records the version, sync time and state (a working fetch heals error/app_missing/needs_reauth),
--      the triggering event its outcome, and listeners get pg_notify('project_env_changed', project id).
CREATE FUNCTION hds_commit_release(
  p_link uuid,
  p_owner text,
  p_version integer,
  p_mappings jsonb,
  p_values jsonb,
  p_actor text,
  p_event uuid,
  p_last_error text
) RETURNS TABLE (status text, changed_vars integer, target_version integer)
LANGUAGE plpgsql AS $$
DECLARE
  l heroku_links%ROWTYPE;
  v jsonb;
  s project_env_vars%ROWTYPE;
  n integer := 0;
  existed boolean;
  healed boolean;
BEGIN
  SELECT * INTO l FROM heroku_links WHERE id = p_link FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'missing'::text, 0, 0;
    RETURN;
  END IF;
  IF NOT l.enabled OR p_version <= l.applied_version THEN
    IF l.lease_owner = p_owner THEN
      UPDATE heroku_links SET lease_owner = NULL, lease_expires_at = NULL WHERE id = p_link;
    END IF;
    RETURN QUERY SELECT 'stale'::text, 0, l.target_version;
    RETURN;
  END IF;
  IF l.mappings <> p_mappings THEN
    RETURN QUERY SELECT 'mappings_changed'::text, 0, l.target_version;
    RETURN;
  END IF;

  FOR v IN SELECT * FROM jsonb_array_elements(p_values) LOOP
    SELECT * INTO s FROM project_env_vars
      WHERE project_id = l.project_id AND name = v->>'name' FOR UPDATE;
    existed := FOUND;
    CONTINUE WHEN existed AND s.value_fingerprint IS NOT NULL
      AND s.value_fingerprint = ANY (ARRAY(SELECT jsonb_array_elements_text(v->'fps')));
    INSERT INTO project_env_vars (project_id, name, value_encrypted, value_fingerprint, value_redacted, source)
      VALUES (l.project_id, v->>'name', v->>'enc', v->>'fp', v->>'red', 'heroku')
      ON CONFLICT (project_id, name) DO UPDATE SET value_encrypted = excluded.value_encrypted,
        value_fingerprint = excluded.value_fingerprint, value_redacted = excluded.value_redacted,
        source = excluded.source, updated_at = now();
    INSERT INTO audit_log (project_id, link_id, action, actor, var_name, before_redacted, after_redacted,
        before_fingerprint, after_fingerprint, release_version, event_id)
      VALUES (l.project_id, p_link, 'env_synced', p_actor, v->>'name',
        CASE WHEN existed THEN s.value_redacted END, v->>'red',
        CASE WHEN existed THEN s.value_fingerprint END, v->>'fp', p_version, p_event);
    n := n + 1;
  END LOOP;

  healed := l.state IN ('error', 'app_missing', 'needs_reauth');
  IF healed THEN
    INSERT INTO audit_log (project_id, link_id, action, actor, release_version, detail)
      VALUES (l.project_id, p_link, 'state_changed', p_actor, p_version,
        jsonb_build_object('from', l.state, 'to', 'active', 'reason', 'config fetched'));
  END IF;
  UPDATE heroku_links SET
    applied_version = p_version,
    last_synced_at = now(),
    updated_at = now(),
    state = CASE WHEN healed THEN 'active' ELSE state END,
    last_error = CASE WHEN healed OR l.state = 'active' THEN p_last_error ELSE last_error END,
    lease_owner = CASE WHEN lease_owner = p_owner THEN NULL ELSE lease_owner END,
    lease_expires_at = CASE WHEN lease_owner = p_owner THEN NULL ELSE lease_expires_at END
  WHERE id = p_link;
  IF p_event IS NOT NULL THEN
    UPDATE webhook_events SET outcome = CASE WHEN n > 0 THEN 'applied' ELSE 'unchanged' END, processed_at = now()
      WHERE event_id = p_event AND link_id = p_link AND outcome IS NULL;
  END IF;
  IF n > 0 THEN
    PERFORM pg_notify('project_env_changed', l.project_id::text);
  END IF;
  RETURN QUERY SELECT 'committed'::text, n, l.target_version;
END;
$$;
