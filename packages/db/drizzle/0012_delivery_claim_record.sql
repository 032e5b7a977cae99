-- The delivery hot path in two round trips: hds_delivery_claim takes a delivery for one attempt (or says why not
-- now), hds_delivery_record writes the attempt and its consequences. Each runs in its caller's transaction (one
-- statement on its own is one). Same rules as the engine's former multi-statement transactions.
CREATE INDEX IF NOT EXISTS "deliveries_leased_idx" ON "deliveries" USING btree ("destination_id", "var_name")
  WHERE "lease_until" IS NOT NULL;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION hds_delivery_claim(p_id uuid, p_lease_ms integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  d deliveries%ROWTYPE;
  t destinations%ROWTYPE;
  v_wait double precision;
BEGIN
  SELECT * INTO d FROM deliveries WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('claim', 'done', 'status', 'missing');
  END IF;
  IF d.status NOT IN ('pending', 'failed') THEN
    RETURN jsonb_build_object('claim', 'done', 'status', d.status);
  END IF;
  SELECT * INTO t FROM destinations WHERE id = d.destination_id;
  IF t.state = 'disabled' THEN
    UPDATE deliveries SET status = 'gave_up', last_error = 'the destination is disabled', lease_until = NULL
      WHERE id = p_id;
    RETURN jsonb_build_object('claim', 'done', 'status', 'gave_up');
  END IF;
  v_wait := extract(epoch FROM (d.next_attempt_at - now())) * 1000;
  IF v_wait > 50 THEN
    RETURN jsonb_build_object('claim', 'not_due', 'wait_ms', v_wait);
  END IF;
  IF d.lease_until IS NOT NULL AND d.lease_until > now() THEN
    RETURN jsonb_build_object('claim', 'leased', 'wait_ms', extract(epoch FROM (d.lease_until - now())) * 1000);
  END IF;
  IF d.var_name IS NOT NULL THEN
    -- One attempt at a time per destination and var: the lock orders the claims, the check sees the others.
    PERFORM pg_advisory_xact_lock(hashtext(d.destination_id::text || ':' || d.var_name));
    PERFORM 1 FROM deliveries o WHERE o.destination_id = d.destination_id AND o.var_name = d.var_name
      AND o.id <> p_id AND o.lease_until > now() LIMIT 1;
    IF FOUND THEN
      RETURN jsonb_build_object('claim', 'busy');
    END IF;
  END IF;
  UPDATE deliveries SET attempts = attempts + 1, lease_until = now() + p_lease_ms * interval '1 millisecond'
    WHERE id = p_id RETURNING * INTO d;
  RETURN jsonb_build_object('claim', 'claimed', 'row', to_jsonb(d) || jsonb_build_object(
    'kind', t.kind, 'config', t.config, 'secrets_encrypted', t.secrets_encrypted));
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION hds_delivery_record(
  p_id uuid, p_outcome text, p_status_code integer, p_error text, p_latency_ms integer,
  -- retry: the wait before the next attempt (NULL: the schedule is exhausted)
  p_delay_ms integer,
  -- retry: a destination failing this long is disabled
  p_disable_after_ms bigint,
  -- why the destination is disabled, should this attempt disable it
  p_disable_reason text
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  d deliveries%ROWTYPE;
  v_status text;
  v_failing_ms double precision;
  v_disable boolean := false;
  v_disabled boolean := false;
BEGIN
  SELECT * INTO d FROM deliveries WHERE id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no delivery %', p_id;
  END IF;
  INSERT INTO delivery_attempts (delivery_id, outcome, status_code, error, latency_ms)
    VALUES (p_id, p_outcome, p_status_code, p_error, p_latency_ms);
  CASE p_outcome
    WHEN 'delivered', 'needs_restart' THEN
      v_status := p_outcome;
      UPDATE destinations SET state = 'active', failing_since = NULL, last_error = NULL, last_delivery_at = now(),
        updated_at = now() WHERE id = d.destination_id AND state <> 'disabled';
    WHEN 'gave_up' THEN
      v_status := 'gave_up';
    WHEN 'disable' THEN
      v_status := 'gave_up';
      v_disable := true;
    WHEN 'retry' THEN
      UPDATE destinations SET state = CASE WHEN state = 'disabled' THEN state ELSE 'failing' END,
          failing_since = coalesce(failing_since, now()), last_error = p_error, updated_at = now()
        WHERE id = d.destination_id
        RETURNING extract(epoch FROM (now() - failing_since)) * 1000 INTO v_failing_ms;
      IF coalesce(v_failing_ms, 0) >= p_disable_after_ms THEN
        v_status := 'gave_up';
        v_disable := true;
      ELSIF p_delay_ms IS NULL THEN
        v_status := 'gave_up';
      ELSE
        v_status := 'failed';
      END IF;
    ELSE
      RAISE EXCEPTION 'unknown delivery outcome %', p_outcome;
  END CASE;
  UPDATE deliveries SET
      status = CASE WHEN status = 'superseded' AND v_status <> 'delivered' THEN status ELSE v_status END,
      lease_until = NULL, last_status_code = p_status_code, last_error = p_error, last_latency_ms = p_latency_ms,
      delivered_at = CASE WHEN v_status = 'delivered' THEN now() ELSE delivered_at END,
      next_attempt_at = CASE WHEN v_status = 'failed' THEN now() + p_delay_ms * interval '1 millisecond'
        ELSE next_attempt_at END
    WHERE id = p_id;
  IF v_disable THEN
    UPDATE destinations SET state = 'disabled', last_error = p_disable_reason, updated_at = now()
      WHERE id = d.destination_id AND state <> 'disabled';
    IF FOUND THEN
      v_disabled := true;
      INSERT INTO audit_log (project_id, action, actor, detail)
        VALUES (d.project_id, 'destination_disabled', 'system',
          jsonb_build_object('destinationId', d.destination_id, 'reason', p_disable_reason));
    END IF;
  END IF;
  RETURN jsonb_build_object('status', v_status, 'disabled', v_disabled);
END
$$;
