import type { Keyring, Logger } from '@hds/core';
import type { Database, DeliveryStatus } from '@hds/db';
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

/** What `hds_delivery_claim` answers. */
type ClaimAnswer =
  | { claim: 'done'; status: DeliveryStatus | 'missing' }
  | { claim: 'not_due' | 'leased'; wait_ms: number }
  | { claim: 'busy' }
  | { claim: 'claimed'; row: ClaimedRow };

/** What an attempt can leave a delivery in (`hds_delivery_record`). */
type RecordedStatus = 'delivered' | 'needs_restart' | 'gave_up' | 'failed';

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

  /** Takes the delivery for one attempt, or says why not now (one round trip: `hds_delivery_claim`). */
  private async claim(deliveryId: string): Promise<ProcessResult | { row: ClaimedRow }> {
    const rows = await this.options.db.execute<{ claim: ClaimAnswer }>(
      sql`select hds_delivery_claim(${deliveryId}, ${this.leaseMs}) as claim`,
    );
    const answer = rows[0]?.claim;
    if (!answer) throw new Error('hds_delivery_claim answered nothing');
    const now = Date.now();
    const claim = answer.claim;
    switch (claim) {
      case 'done':
        return { kind: 'done', status: answer.status };
      case 'not_due':
        return { kind: 'later', at: new Date(now + Number(answer.wait_ms)), reason: 'not_due' };
      case 'leased':
        return { kind: 'later', at: new Date(now + Math.min(Number(answer.wait_ms), this.leaseMs)), reason: 'busy' };
      case 'busy':
        return { kind: 'later', at: new Date(now + BUSY_RECHECK_MS), reason: 'busy' };
      case 'claimed':
        return { row: answer.row };
      default:
        return assertNever(claim);
    }
  }

  /**
   * Writes the attempt and its consequences (delivered, a retry on the schedule, gave up, the destination failing
   * or disabled, its audit row) in one round trip (`hds_delivery_record`); answers what the job does next.
   */
  private async record(row: ClaimedRow, result: DeliveryResult, logger: Logger): Promise<ProcessResult> {
    const { db, scheduleMs, disableAfterMs, random } = this.options;
    const error = result.error ?? null;
    const code = result.statusCode ?? null;
    const outcome = result.outcome;
    let delay: number | null = null;
    let disableReason: string | null = null;
    switch (outcome) {
      case 'delivered':
      case 'needs_restart':
      case 'gave_up':
        break;
      case 'disable':
        disableReason = error ?? 'the target asked to be disabled';
        break;
      case 'retry':
        delay = nextAttemptDelay({
          scheduleMs,
          attemptsMade: row.attempts,
          retryAfterMs: result.retryAfterMs,
          ...(random ? { random } : {}),
        });
        disableReason = `every delivery failed for ${Math.round(disableAfterMs / 3600_000)} h: ${error ?? ''}`;
        break;
      default:
        return assertNever(outcome);
    }
    const rows = await db.execute<{ recorded: { status: RecordedStatus; disabled: boolean } }>(sql`
      select hds_delivery_record(${row.id}, ${outcome}, ${code}, ${error}, ${Math.round(result.latencyMs)},
        ${delay === null ? null : Math.round(delay)}, ${disableAfterMs}, ${disableReason}) as recorded`);
    const recorded = rows[0]?.recorded;
    if (!recorded) throw new Error('hds_delivery_record answered nothing');
    if (recorded.disabled) logger.warn({ reason: disableReason }, 'destination disabled');
    const status = recorded.status;
    switch (status) {
      case 'delivered': {
        const commitToDeliveredMs = Math.max(0, Date.now() - new Date(row.created_at).getTime());
        this.options.hooks?.delivered?.({ commitToDeliveredMs, test: row.test });
        return { kind: 'done', status };
      }
      case 'needs_restart':
      case 'gave_up':
        return { kind: 'done', status };
      case 'failed':
        return { kind: 'later', at: new Date(Date.now() + (delay ?? 0)), reason: 'retry' };
      default:
        return assertNever(status);
    }
  }
}
