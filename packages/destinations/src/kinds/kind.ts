import type { Logger } from '@hds/core';
import type { z } from 'zod';

/**
 * One change to deliver: the committed value of one project env var (or a test event).
 * `id` is stable across retries of the same delivery (a webhook sends it as `webhook-id`).
 */
export interface DeliveryPayload {
  readonly id: string;
  readonly projectId: string;
  readonly varName: string;
  /** The decrypted value. A kind decides whether it leaves the process (a thin webhook does not send it). */
  readonly value: string;
  /** The Heroku release that carried it, or `null` for a hand edit or an initial delivery. */
  readonly releaseVersion: number | null;
  /** Keyed fingerprint of the value (as in the audit log): lets a receiver tell values apart without seeing them. */
  readonly fingerprint: string;
  readonly changedAt: Date;
  /** A "send test event" delivery: a kind should prove it can reach the target without changing anything. */
  readonly test?: boolean;
}

/**
 * What one attempt came to. The delivery engine turns it into state:
 * - `delivered`: done.
 * - `retry`: try again on the retry schedule (or after `retryAfterMs` when the target asked for it).
 * - `gave_up`: a permanent failure of this delivery (e.g. a 4xx); the destination stays active.
 * - `needs_restart`: nothing was written, the target only picks the value up on a restart (a Hasura `from_env` source).
 * - `disable`: the target said it is gone for good (a webhook's `410`); the destination is disabled.
 */
export type DeliveryOutcome = 'delivered' | 'retry' | 'gave_up' | 'needs_restart' | 'disable';

export interface DeliveryResult {
  readonly outcome: DeliveryOutcome;
  /** The target's HTTP status, when there was one. */
  readonly statusCode?: number;
  /** Why it did not work: short, never holding a secret or the value. */
  readonly error?: string;
  /** The target's own `Retry-After`, when it gave one. */
  readonly retryAfterMs?: number;
  readonly latencyMs: number;
}

export interface DeliverInput<Config, Secrets> {
  /** The destination's stored, already-validated config (no secrets). */
  readonly config: Config;
  /** The destination's secrets, decrypted for this attempt only. */
  readonly secrets: Secrets;
  readonly delivery: DeliveryPayload;
  /** Aborted when the attempt must stop (timeout, shutdown). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/**
 * A kind of destination (`webhook`, `hasura`, `file`). A kind only knows how to reach its target; persistence,
 * ordering, superseding, retries and audit live in the delivery engine.
 */
export interface DestinationKind<Config = unknown, Secrets = unknown, CreateInput = unknown> {
  readonly name: string;
  /** Validates what an admin sent at creation (the API shape, minus `kind` and `vars`). */
  readonly createInput: z.ZodType<CreateInput>;
  /**
   * Turns a valid creation input into what is stored: plain `config` (shown in listings) and `secrets`
   * (encrypted at rest, shown once through `shownOnce`). May generate secrets (a webhook's `whsec_`).
   * Throw a `DestinationConfigError` for input that passes the schema but is still unusable.
   */
  prepare(input: {
    readonly input: CreateInput;
    readonly context: PrepareContext;
  }): Promise<PreparedDestination<Config, Secrets>>;
  /** Parses stored config/secrets back (they were written by `prepare`, possibly by an older version). */
  readonly config: z.ZodType<Config>;
  readonly secrets: z.ZodType<Secrets>;
  /** Makes one attempt. Must not throw for a target's failure: return `retry`/`gave_up` with `error`. */
  deliver(input: DeliverInput<Config, Secrets>): Promise<DeliveryResult>;
}

export interface PrepareContext {
  readonly projectId: string;
  /** The vars the admin asked for (`null`: every var of the project, now and later). */
  readonly vars: readonly string[] | null;
  /** The vars the project has now: its env vars and what its sync mappings write. */
  readonly projectVars: readonly string[];
}

export interface PreparedDestination<Config, Secrets> {
  readonly config: Config;
  readonly secrets: Secrets;
  /** The vars the kind pins the destination to, when it can hold only these (a raw file: one). */
  readonly vars?: readonly string[];
  /** Fields returned once in the creation response (e.g. `{secret: 'whsec_…'}`) and never again. */
  readonly shownOnce?: Record<string, string>;
}

/** Creation input that is well-formed but unusable (e.g. a path outside the allowed root); answered as 400. */
export class DestinationConfigError extends Error {
  readonly code = 'DESTINATION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'DestinationConfigError';
  }
}
