-- The release path's rules, each kept once (see docs/adr/0005 and packages/sync/src/release-path/index.ts, their
-- only caller from TypeScript). Every function runs inside its caller's transaction.
--
--   hds_record_event     an event is recorded once per event id and link, judged, and when owed raises the link's
--                        target and tries its fetch lease (the event's first statement: one round trip)
--   hds_claim_fetch      a fetch is owed (target above applied, or mappings changed since the applied release) and
--                        the lease is free: the target and the lease are only ever written here, for one app
--   hds_release_lease    a link's fetch lease is given back only by its owner
--   hds_settle_event     an event's outcome is written once, when its work ends
--   hds_set_link_state   a state change, with its audit row (optionally only from some states, only for one app)
--   hds_put_env_var      a project env var is written unless its value is unchanged (fingerprint under any key),
--                        with its audit row: the one writer of project_env_vars, by hand or from a release
--   hds_commit_release   a release's values, its state and its event's outcome, under the link's row lock
--
-- This replaces the first hds_commit_release (0005): the commit is now tied to the app the values were fetched
-- from, its rules are shared with the other writers through the functions above, a release is applied again
-- when the link's mappings changed since it was applied (applied_mappings), and a release without a mapped
-- config var makes the link config_var_missing.

-- Links that applied a release before applied_mappings existed applied it with their current mappings.
UPDATE heroku_links SET applied_mappings = mappings WHERE applied_version > 0 AND applied_mappings IS NULL;
--> statement-breakpoint
DROP FUNCTION hds_commit_release(uuid, text, integer, jsonb, jsonb, text, uuid, text);
--> statement-breakpoint
CREATE FUNCTION hds_release_lease(p_link uuid, p_owner text) RETURNS void
LANGUAGE sql AS $$
  UPDATE heroku_links SET lease_owner = NULL, lease_expires_at = NULL WHERE id = p_link AND lease_owner = p_owner;
$$;
--> statement-breakpoint
CREATE FUNCTION hds_settle_event(p_event uuid, p_link uuid, p_outcome text) RETURNS void
LANGUAGE sql AS $$
  UPDATE webhook_events SET outcome = p_outcome, processed_at = now()
    WHERE event_id = p_event AND link_id = p_link AND outcome IS NULL;
$$;
--> statement-breakpoint
-- Raises the link's target to p_raise_to (0: no raise) and takes its fetch lease for p_owner, if the link is enabled,
-- on app p_app, and owes a fetch: its target is above its applied version, or its mappings changed since that
-- version was applied (applied_mappings). One row when a fetch is owed (claimed: whether p_owner holds the lease now), none otherwise.
CREATE FUNCTION hds_claim_fetch(p_link uuid, p_app uuid, p_owner text, p_lease_ms integer, p_raise_to integer)
RETURNS TABLE (claimed boolean, project_id uuid, account_id uuid, target_version integer, mappings jsonb)
LANGUAGE sql AS $$
  UPDATE heroku_links h SET
    target_version = greatest(h.target_version, p_raise_to),
    lease_owner = CASE WHEN h.lease_owner IS NULL OR h.lease_expires_at < now() OR h.lease_owner = p_owner
                       THEN p_owner ELSE h.lease_owner END,
    lease_expires_at = CASE WHEN h.lease_owner IS NULL OR h.lease_expires_at < now() OR h.lease_owner = p_owner
                            THEN now() + p_lease_ms * interval '1 millisecond' ELSE h.lease_expires_at END
  WHERE h.id = p_link AND h.enabled AND h.app_id = p_app
    AND (greatest(h.target_version, p_raise_to) > h.applied_version
         OR (h.applied_version > 0 AND h.applied_mappings IS DISTINCT FROM h.mappings))
  RETURNING h.lease_owner = p_owner, h.project_id, h.account_id, h.target_version, h.mappings;
$$;
--> statement-breakpoint
-- A webhook event's first statement. Records it once per (event id, link) (a redelivery counts an attempt), judges
-- it, and when a fetch is owed raises the link's target and tries the lease (hds_claim_fetch). p_settled is the
-- outcome of an event that needs no fetch whatever the link says (pending, failed, expired, unknown status).
-- Answers: already_done with the outcome recorded before; or the outcome it was settled with now (ignored, stale,
-- coalesced, or p_settled) and why; or a claim (the caller holds the lease and fetches claim.target_version).
CREATE FUNCTION hds_record_event(
  p_event uuid,
  p_link uuid,
  p_app uuid,
  p_version integer,
  p_action text,
  p_status text,
  p_received_at timestamptz,
  p_settled text,
  p_owner text,
  p_lease_ms integer
) RETURNS TABLE (outcome text, reason text, already_done boolean, account_id uuid, claim jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  l heroku_links%ROWTYPE;
  found_link boolean;
  v_outcome text := p_settled;
  v_reason text;
  e_outcome text;
  e_inserted boolean;
  c record;
BEGIN
  SELECT * INTO l FROM heroku_links WHERE id = p_link;
  found_link := FOUND;
  IF v_outcome IS NULL THEN
    IF NOT found_link THEN v_outcome := 'ignored'; v_reason := 'unknown link';
    ELSIF NOT l.enabled THEN v_outcome := 'ignored'; v_reason := 'sync disabled';
    ELSIF l.app_id <> p_app THEN v_outcome := 'ignored'; v_reason := 'event for another app';
    ELSIF l.applied_version >= p_version THEN v_outcome := 'stale'; v_reason := 'not newer than the applied release';
    END IF;
  END IF;
  INSERT INTO webhook_events AS w
      (event_id, link_id, app_id, release_version, action, release_status, received_at, outcome, processed_at)
    VALUES (p_event, p_link, p_app, p_version, p_action, p_status, p_received_at, v_outcome,
      CASE WHEN v_outcome IS NULL THEN NULL ELSE now() END)
    ON CONFLICT (event_id, link_id) DO UPDATE SET attempts = w.attempts + 1
    RETURNING w.outcome, (w.xmax = 0) INTO e_outcome, e_inserted;
  IF NOT e_inserted AND e_outcome IS NOT NULL THEN
    RETURN QUERY SELECT e_outcome, NULL::text, true, l.account_id, NULL::jsonb;
    RETURN;
  END IF;
  IF v_outcome IS NOT NULL THEN
    -- A retry whose link changed meanwhile: the row exists without an outcome.
    PERFORM hds_settle_event(p_event, p_link, v_outcome);
    RETURN QUERY SELECT v_outcome, v_reason, false, l.account_id, NULL::jsonb;
    RETURN;
  END IF;
  SELECT * INTO c FROM hds_claim_fetch(p_link, p_app, p_owner, p_lease_ms, p_version);
  IF NOT FOUND THEN
    -- Changed between the judgement and the claim (another worker applied it, or the link moved).
    PERFORM hds_settle_event(p_event, p_link, 'stale');
    RETURN QUERY SELECT 'stale'::text, 'not newer than the applied release'::text, false, l.account_id, NULL::jsonb;
    RETURN;
  END IF;
  IF NOT c.claimed THEN
    PERFORM hds_settle_event(p_event, p_link, 'coalesced');
    RETURN QUERY SELECT 'coalesced'::text,
      'another worker is fetching this app; it will apply the newest release'::text, false, l.account_id, NULL::jsonb;
    RETURN;
  END IF;
  RETURN QUERY SELECT NULL::text, NULL::text, false, c.account_id, jsonb_build_object(
    'projectId', c.project_id, 'accountId', c.account_id, 'appId', p_app,
    'targetVersion', c.target_version, 'mappings', c.mappings);
END;
$$;
--> statement-breakpoint
-- Moves an enabled link to p_state with p_error. No-op (false) when the link is disabled, is on another app than
-- p_app (when given), is not in one of p_from (when given), or is already there with the same error. An audit row
-- `state_changed` is written when the state changes; returns whether it did.
CREATE FUNCTION hds_set_link_state(
  p_link uuid,
  p_app uuid,
  p_state text,
  p_error text,
  p_actor text,
  p_detail jsonb,
  p_version integer,
  p_from text[]
) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  l heroku_links%ROWTYPE;
BEGIN
  SELECT * INTO l FROM heroku_links
    WHERE id = p_link AND enabled AND (p_app IS NULL OR app_id = p_app) FOR UPDATE;
  IF NOT FOUND THEN RETURN false; END IF;
  IF p_from IS NOT NULL AND NOT (l.state = ANY (p_from)) THEN RETURN false; END IF;
  IF l.state = p_state AND l.last_error IS NOT DISTINCT FROM p_error THEN RETURN false; END IF;
  UPDATE heroku_links SET state = p_state, last_error = p_error, updated_at = now() WHERE id = p_link;
  IF l.state = p_state THEN RETURN false; END IF;
  INSERT INTO audit_log (project_id, link_id, action, actor, release_version, detail)
    VALUES (l.project_id, p_link, 'state_changed', p_actor, p_version,
      jsonb_build_object('from', l.state, 'to', p_state, 'error', p_error) || coalesce(p_detail, '{}'::jsonb));
  RETURN true;
END;
$$;
--> statement-breakpoint
-- Writes one project env var (the caller encrypted it: p_enc, p_fp its fingerprint under the primary key, p_red its
-- redacted form) unless the stored value is the same: its fingerprint is one of p_fps (the value's fingerprint
-- under every current key, so one stored before a key rotation still counts). A write appends an audit row with
-- redacted forms and fingerprints only. Returns whether it wrote.
CREATE FUNCTION hds_put_env_var(
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
  RETURN true;
END;
$$;
--> statement-breakpoint
-- The commit of release p_version of app p_app, in one round trip (the hot path). In one transaction under the
-- link's row lock, each statement with a fresh snapshot (READ COMMITTED), so a commit that waited for another
-- sees what that one wrote:
--   1. a disabled or deleted link, or one moved to another app since the fetch, changes nothing ('other_app');
--   2. the version guard: a version below the applied one, or equal to it when the mappings it was applied with
--      are still the link's, changes nothing ('stale');
--   3. the caller computed the values with the link's mappings as it read them: if they changed since, nothing is
--      written and the caller recomputes ('mappings_changed');
--   4. each value is written by hds_put_env_var (unchanged ones are skipped);
--   5. the state: a release without a mapped config var (p_missing_error says which) makes the link
--      config_var_missing (its env var keeps the previous value, which may be dead); otherwise a working fetch
--      heals error, app_missing, needs_reauth and config_var_missing to active and clears an active link's
--      error (a retry's); webhook_missing is the reconciler's to heal;
--   6. the link records the version and the mappings it was applied with, the lease is given back, the event gets
--      its outcome, and listeners get pg_notify('project_env_changed', project id) when a value changed.
-- A lease held by p_owner is given back, and the event (p_event) settled (ignored, stale, applied or unchanged),
-- except on 'mappings_changed' (the caller commits again). Returns the link's target version (a newer release may be
-- owed; 0 when the link is gone or moved).
CREATE FUNCTION hds_commit_release(
  p_link uuid,
  p_app uuid,
  p_owner text,
  p_version integer,
  p_mappings jsonb,
  p_values jsonb,
  p_missing_error text,
  p_actor text,
  p_event uuid
) RETURNS TABLE (status text, changed_vars integer, target_version integer)
LANGUAGE plpgsql AS $$
DECLARE
  l heroku_links%ROWTYPE;
  v jsonb;
  n integer := 0;
BEGIN
  SELECT * INTO l FROM heroku_links WHERE id = p_link FOR UPDATE;
  IF NOT FOUND OR NOT l.enabled OR l.app_id <> p_app THEN
    PERFORM hds_release_lease(p_link, p_owner);
    IF p_event IS NOT NULL THEN PERFORM hds_settle_event(p_event, p_link, 'ignored'); END IF;
    RETURN QUERY SELECT 'other_app'::text, 0, 0;
    RETURN;
  END IF;
  IF p_version < l.applied_version
     OR (p_version = l.applied_version AND l.applied_mappings IS NOT DISTINCT FROM l.mappings) THEN
    PERFORM hds_release_lease(p_link, p_owner);
    IF p_event IS NOT NULL THEN PERFORM hds_settle_event(p_event, p_link, 'stale'); END IF;
    RETURN QUERY SELECT 'stale'::text, 0, l.target_version;
    RETURN;
  END IF;
  IF l.mappings <> p_mappings THEN
    RETURN QUERY SELECT 'mappings_changed'::text, 0, l.target_version;
    RETURN;
  END IF;

  FOR v IN SELECT * FROM jsonb_array_elements(p_values) LOOP
    IF hds_put_env_var(l.project_id, v->>'name', v->>'enc', v->>'fp', v->>'red',
        ARRAY(SELECT jsonb_array_elements_text(v->'fps')), 'heroku', 'env_synced', p_actor, p_link, p_version,
        p_event) THEN
      n := n + 1;
    END IF;
  END LOOP;

  IF p_missing_error IS NOT NULL THEN
    PERFORM hds_set_link_state(p_link, p_app, 'config_var_missing', p_missing_error, p_actor,
      jsonb_build_object('reason', 'the release lacks a mapped config var'), p_version, NULL);
  ELSE
    PERFORM hds_set_link_state(p_link, p_app, 'active', NULL, p_actor,
      jsonb_build_object('reason', 'config fetched'), p_version,
      ARRAY['active', 'error', 'app_missing', 'needs_reauth', 'config_var_missing']);
  END IF;
  UPDATE heroku_links SET
    applied_version = p_version,
    applied_mappings = l.mappings,
    last_synced_at = now(),
    updated_at = now()
  WHERE id = p_link;
  PERFORM hds_release_lease(p_link, p_owner);
  IF p_event IS NOT NULL THEN
    PERFORM hds_settle_event(p_event, p_link, CASE WHEN n > 0 THEN 'applied' ELSE 'unchanged' END);
  END IF;
  IF n > 0 THEN
    PERFORM pg_notify('project_env_changed', l.project_id::text);
  END IF;
  RETURN QUERY SELECT 'committed'::text, n, l.target_version;
END;
$$;
