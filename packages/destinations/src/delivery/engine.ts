import type { Keyring, Logger } from '@hds/core';
import { auditLog, type Database, type DeliveryStatus } from '@hds/db';
import { assertNever, envVarContext } from '@hds/sync';
import { sql } from 'drizzle-orm';
import type { DeliveryResult, DestinationKind } from '../kinds/kind.js';
import { destinationSecretsContext } from '../secrets-context.js';
import { nextAttemptDelay } from './retry-schedule.js';

/** What became of one `deliver` job: finished (in a final or waiting state), or to run again at `at`. */
export type ProcessResult =
  | { kind: 'done'; status: DeliveryStatus | 'missing' }
  | { kind: 'later'; at: Date; reason: 'retry' | 'not_due' | 'busy' };

export interface DeliveryHooks {
  /** One attempt ended. */
  attempt?(info: { outcome: DeliveryResult['outcome']; kind: string; latencyMs: number }): void;
  /** A change reached its destination: from its commit to the receiver's 2xx. */
  delivered?(info: { commitToDeliveredMs: number; test: boolean }): void;
}

export interface DeliveryEngineOptions {
  db: Database;
  keyring: Keyring;
  kinds: Readonly<Record<string, DestinationKind<unknown, unknown, unknown>>>;
  /** `DELIVERY_RETRY_SCHEDULE` in ms: entry i is the wait before attempt i + 1. */
  scheduleMs: readonly number[];
  /** A destination failing (every attempt) for this long is disabled. */
  disableAfterMs: number;
  /** How long an attempt holds its delivery (longer than a kind's timeout). */
  leaseMs?: number;
  logger: Logger;
  hooks?: DeliveryHooks;
  random?: () => number;
}

interface ClaimedRow extends Record<string, unknown> {
  id: string;
  destination_id: string;
  project_id: string;
  var_name: string | null;
  value_encrypted: string | null;
  value_fingerprint: string | null;
  release_version: number | null;
  test: boolean;
  attempts: number;
  created_at: string;
  kind: string;
  config: unknown;
  secrets_encrypted: string | null;
}

/** When a delivery waits for another attempt of the same destination and var, it looks again this soon. */
const BUSY_RECHECK_MS = 250;

/**
 * Makes the attempts of deliveries: claims one (one attempt at a time per destination and var, so a receiver
 * never gets an older value after a newer one), lets its kind try, and records the attempt and what follows
 * (delivered, a retry on the schedule, gave up, the destination failing or disabled) in one transaction.
 */
export class DeliveryEngine {
  private readonly leaseMs: number;

  constructor(private readonly options: DeliveryEngineOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
  }

  async process(deliveryId: string, signal: AbortSignal = new AbortController().signal): Promise<ProcessResult> {
    const claim = await this.claim(deliveryId);
    if ('kind' in claim) return claim;
    const row = claim.row;
    const kind = this.options.kinds[row.kind];
    const logger = this.options.logger.child({ deliveryId, destinationId: row.destination_id, attempt: row.attempts });
    let result: DeliveryResult;
    if (!kind) {
      result = { outcome: 'gave_up', error: `no destination kind "${row.kind}" in this worker`, latencyMs: 0 };
    } else {
      result = await this.attempt(kind, row, signal, logger);
    }
    this.options.hooks?.attempt?.({ outcome: result.outcome, kind: row.kind, latencyMs: result.latencyMs });
    return this.record(row, result, logger);
  }

  private async attempt(
    kind: DestinationKind<unknown, unknown, unknown>,
    row: ClaimedRow,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<DeliveryResult> {
    try {
      const { keyring } = this.options;
      const config = kind.config.parse(row.config);
      const secrets = kind.secrets.parse(
        row.secrets_encrypted
          ? JSON.parse(keyring.decrypt(row.secrets_encrypted, destinationSecretsContext(row.destination_id)))
          : {},
      );
      const value =
        row.var_name !== null && row.value_encrypted !== null
          ? keyring.decrypt(row.value_encrypted, envVarContext(row.project_id, row.var_name))
          : '';
      return await kind.deliver({
        config,
        secrets,
        signal,
        logger,
        delivery: {
          id: row.id,
          projectId: row.project_id,
          varName: row.var_name ?? '',
          value,
          releaseVersion: row.release_version,
          fingerprint: row.value_fingerprint ?? '',
          changedAt: new Date(row.created_at),
          test: row.test,
        },
      });
    } catch (err) {
      logger.error({ err }, 'a delivery attempt failed unexpectedly');
      return { outcome: 'retry', error: `internal error: ${(err as Error).message}`, latencyMs: 0 };
    }
  }

  /** Takes the delivery for one attempt, or says why not now. */
  private async claim(deliveryId: string): Promise<ProcessResult | { row: ClaimedRow }> {
    return this.options.db.transaction(async (tx) => {
      const rows = await tx.execute<
        ClaimedRow & { status: DeliveryStatus; state: string; due_in_ms: number; lease_ms: number | null }
      >(sql`
        select d.*, t.kind, t.config, t.secrets_encrypted, t.state,
          extract(epoch from (d.next_attempt_at - now())) * 1000 as due_in_ms,
          extract(epoch from (d.lease_until - now())) * 1000 as lease_ms
        from deliveries d join destinations t on t.id = d.destination_id
        where d.id = ${deliveryId} for update of d`);
      const row = rows[0];
      if (!row) return { kind: 'done', status: 'missing' } as const;
      if (row.status !== 'pending' && row.status !== 'failed') return { kind: 'done', status: row.status } as const;
      if (row.state === 'disabled') {
        await tx.execute(sql`update deliveries set status = 'gave_up', last_error = 'the destination is disabled',
          lease_until = null where id = ${deliveryId}`);
        return { kind: 'done', status: 'gave_up' } as const;
      }
      const now = Date.now();
      if (Number(row.due_in_ms) > 50)
        return { kind: 'later', at: new Date(now + Number(row.due_in_ms)), reason: 'not_due' } as const;
      if (row.lease_ms !== null && Number(row.lease_ms) > 0) {
        return {
          kind: 'later',
          at: new Date(now + Math.min(Number(row.lease_ms), this.leaseMs)),
          reason: 'busy',
        } as const;
      }
      if (row.var_name !== null) {
        // One attempt at a time per destination and var: the lock orders the claims, the check sees the others.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${row.destination_id} || ':' || ${row.var_name}))`);
        const busy = await tx.execute(sql`select 1 from deliveries where destination_id = ${row.destination_id}
          and var_name = ${row.var_name} and id <> ${deliveryId} and lease_until > now() limit 1`);
        if (busy.length > 0) return { kind: 'later', at: new Date(now + BUSY_RECHECK_MS), reason: 'busy' } as const;
      }
      await tx.execute(sql`update deliveries set attempts = attempts + 1,
        lease_until = now() + ${this.leaseMs} * interval '1 millisecond' where id = ${deliveryId}`);
      return { row: { ...row, attempts: row.attempts + 1 } };
    });
  }

  /** Writes the attempt and its consequences; answers what the job does next. */
  private async record(row: ClaimedRow, result: DeliveryResult, logger: Logger): Promise<ProcessResult> {
    const { db, scheduleMs, disableAfterMs, random } = this.options;
    const error = result.error ?? null;
    const code = result.statusCode ?? null;
    return db.transaction(async (tx) => {
      await tx.execute(sql`insert into delivery_attempts (delivery_id, outcome, status_code, error, latency_ms)
        values (${row.id}, ${result.outcome}, ${code}, ${error}, ${result.latencyMs})`);
      const settle = async (status: DeliveryStatus, extra = sql``) => {
        await tx.execute(sql`update deliveries set status = case when status = 'superseded' and ${status} <> 'delivered'
            then status else ${status} end,
          lease_until = null, last_status_code = ${code}, last_error = ${error},
          last_latency_ms = ${result.latencyMs} ${extra} where id = ${row.id}`);
      };
      const destinationHealthy = () =>
        tx.execute(sql`update destinations set state = 'active', failing_since = null, last_error = null,
          last_delivery_at = now(), updated_at = now() where id = ${row.destination_id} and state <> 'disabled'`);
      const disable = async (reason: string) => {
        const changed = await tx.execute(sql`update destinations set state = 'disabled', last_error = ${reason},
          updated_at = now() where id = ${row.destination_id} and state <> 'disabled' returning id`);
        if (changed.length > 0) {
          await tx.insert(auditLog).values({
            projectId: row.project_id,
            action: 'destination_disabled',
            actor: 'system',
            detail: { destinationId: row.destination_id, reason },
          });
          logger.warn({ reason }, 'destination disabled');
        }
      };
      const outcome = result.outcome;
      switch (outcome) {
        case 'delivered': {
          await settle('delivered', sql`, delivered_at = now()`);
          await destinationHealthy();
          const commitToDeliveredMs = Math.max(0, Date.now() - new Date(row.created_at).getTime());
          this.options.hooks?.delivered?.({ commitToDeliveredMs, test: row.test });
          return { kind: 'done', status: 'delivered' };
        }
        case 'needs_restart':
          await settle('needs_restart');
          await destinationHealthy();
          return { kind: 'done', status: 'needs_restart' };
        case 'gave_up':
          await settle('gave_up');
          return { kind: 'done', status: 'gave_up' };
        case 'disable':
          await settle('gave_up');
          await disable(error ?? 'the target asked to be disabled');
          return { kind: 'done', status: 'gave_up' };
        case 'retry': {
          const failing = await tx.execute<{ failing_ms: number }>(sql`update destinations set
              state = case when state = 'disabled' then state else 'failing' end,
              failing_since = coalesce(failing_since, now()), last_error = ${error}, updated_at = now()
            where id = ${row.destination_id}
            returning extract(epoch from (now() - failing_since)) * 1000 as failing_ms`);
          if (Number(failing[0]?.failing_ms ?? 0) >= disableAfterMs) {
            await settle('gave_up');
            await disable(`every delivery failed for ${Math.round(disableAfterMs / 3600_000)} h: ${error ?? ''}`);
            return { kind: 'done', status: 'gave_up' };
          }
          const delay = nextAttemptDelay({
            scheduleMs,
            attemptsMade: row.attempts,
            retryAfterMs: result.retryAfterMs,
            ...(random ? { random } : {}),
          });
          if (delay === null) {
            await settle('gave_up');
            return { kind: 'done', status: 'gave_up' };
          }
          await settle('failed', sql`, next_attempt_at = now() + ${delay} * interval '1 millisecond'`);
          return { kind: 'later', at: new Date(Date.now() + delay), reason: 'retry' };
        }
        default:
          return assertNever(outcome);
      }
    });
  }
}
