import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Value transforms a mapping may apply before the value is written to the env var. */
export const mappingTransforms = ['postgresql-scheme', 'sslmode-require'] as const;
export type MappingTransform = (typeof mappingTransforms)[number];

/** One Heroku config var copied into one project env var. */
export interface SyncMapping {
  from: string;
  to: string;
  transforms: MappingTransform[];
}

export const linkStates = [
  'active',
  'needs_reauth',
  'app_missing',
  'webhook_missing',
  /** The applied release lacks a mapped config var: its env var keeps the previous value, which may be dead. */
  'config_var_missing',
  'error',
  'disabled',
] as const;
export type LinkState = (typeof linkStates)[number];

/**
 * Every audit row's `action`: the TypeScript union and the database's CHECK constraint both come from this list.
 * Adding one: add it here and run `npm run db:generate` (the constraint is regenerated).
 */
export const auditActions = [
  /** A synced env var changed because of a release. */
  'env_synced',
  /** A person set an env var. */
  'env_set',
  'sync_enabled',
  'sync_disabled',
  'mappings_changed',
  'state_changed',
  'webhook_created',
  'webhook_recreated',
  'webhook_secret_rotated',
  'webhook_delete_failed',
  'webhook_deleted',
  /** A destination was added, removed, disabled (410, failing for days) or re-enabled. */
  'destination_created',
  'destination_deleted',
  'destination_disabled',
  /** An admin asked for deliveries again (one, or every failed one since a time). */
  'deliveries_redelivered',
  /** A project read token was created or revoked. */
  'token_created',
  'token_revoked',
  /** Env values were read in clear (`?reveal=true`), by `ADMIN_TOKEN` or a project read token. */
  'env_revealed',
  /** A data migration's cut-over pointed the env var at the target database. */
  'env_cutover',
  'migration_started',
  'migration_cancelled',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** `'a', 'b'`: a constant list as SQL literals, for CHECK constraints (the values are this file's constants). */
const sqlList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', '));

export const envVarSources = ['manual', 'heroku'] as const;
export type EnvVarSource = (typeof envVarSources)[number];

export const projects = pgTable('projects', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

/** A project's env vars. Values are encrypted (keyring ciphertext bound to project id and name). */
export const projectEnvVars = pgTable(
  'project_env_vars',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    valueEncrypted: text('value_encrypted').notNull(),
    /** Keyed fingerprint of the value: lets a commit see "unchanged" without decrypting. */
    valueFingerprint: text('value_fingerprint'),
    /**
     * The redacted form (`postgres://****:****@host:5432/db`: scheme, host, port and database name, the rest masked),
     * for the audit log's "before" and masked lists.
     */
    valueRedacted: text('value_redacted'),
    source: text('source', { enum: envVarSources }).notNull(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.name] })],
);

/** A Heroku credential: an API key or an OAuth grant. Tokens are encrypted. */
export const herokuAccounts = pgTable('heroku_accounts', {
  id: uuid('id').primaryKey().defaultRandom(),
  herokuUserId: uuid('heroku_user_id').notNull().unique(),
  email: text('email').notNull(),
  authType: text('auth_type', { enum: ['api_key', 'oauth'] }).notNull(),
  accessTokenEncrypted: text('access_token_encrypted').notNull(),
  refreshTokenEncrypted: text('refresh_token_encrypted'),
  accessTokenExpiresAt: timestamptz('access_token_expires_at'),
  scope: text('scope'),
  /** Bumped on every token change, so concurrent refreshers can tell whether someone else already refreshed. */
  tokenGeneration: integer('token_generation').notNull().default(1),
  /** A token refresh in progress and until when: one per account at a time, across processes, held by no connection. */
  refreshOwner: text('refresh_owner'),
  refreshExpiresAt: timestamptz('refresh_expires_at'),
  /** After a 429: no calls for this account before this time (its budget is spent). */
  rateLimitedUntil: timestamptz('rate_limited_until'),
  /** The last `RateLimit-Remaining` seen, and when: the reconciler slows down when it runs low. */
  rateLimitRemaining: integer('rate_limit_remaining'),
  rateLimitSeenAt: timestamptz('rate_limit_seen_at'),
  /**
   * The reconciler's share of the account's budget, as a token bucket (`sweepTokens` as of `sweepTokensAt`): a
   * sweep starts when it holds what the last sweep spent to see the account's apps, and every call the sweep makes
   * (follow-ups included, which may leave the bucket in debt) is taken from it.
   */
  sweepTokens: doublePrecision('sweep_tokens'),
  sweepTokensAt: timestamptz('sweep_tokens_at'),
  /** The calls the last sweep made to see the apps (pages, apps asked for one by one): what the next one needs. */
  lastSweepListCalls: integer('last_sweep_list_calls'),
  /** When the last sweep started. */
  lastSweptAt: timestamptz('last_swept_at'),
  /** A sweep claimed by a worker, until when (a crashed sweep's claim lapses). */
  sweepClaimedUntil: timestamptz('sweep_claimed_until'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/** A project's sync with one Heroku app. */
export const herokuLinks = pgTable(
  'heroku_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .unique()
      .references(() => projects.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => herokuAccounts.id),
    appId: uuid('app_id').notNull(),
    appName: text('app_name').notNull(),
    webhookId: uuid('webhook_id'),
    /** Which signing key the webhook's secret was derived from (a short hash): after rotation it is updated. */
    webhookKeyHash: text('webhook_key_hash'),
    mappings: jsonb('mappings').$type<SyncMapping[]>().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    state: text('state', { enum: linkStates }).notNull().default('active'),
    lastError: text('last_error'),
    /** The highest release version applied: the durable dedupe and ordering guard. */
    appliedVersion: integer('applied_version').notNull().default(0),
    /** The mappings `appliedVersion` was committed with: when `mappings` differ, that release is applied again. */
    appliedMappings: jsonb('applied_mappings').$type<SyncMapping[]>(),
    /** The highest succeeded release version known; above `appliedVersion` means a fetch is owed. */
    targetVersion: integer('target_version').notNull().default(0),
    lastSyncedAt: timestamptz('last_synced_at'),
    /** Who is fetching this link's config now, and until when: at most one fetch per link at a time. */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamptz('lease_expires_at'),
    /** An admin change (enable, move, new mappings) in progress, and until when: a concurrent one gets 409. */
    changeOwner: text('change_owner'),
    changeExpiresAt: timestamptz('change_expires_at'),
    nextReconcileAt: timestamptz('next_reconcile_at').notNull().defaultNow(),
    lastReconciledAt: timestamptz('last_reconciled_at'),
    /** The app's `released_at` the reconciler last saw the link caught up with (null: use `lastSyncedAt`). */
    releasedAtSeen: timestamptz('released_at_seen'),
    /** When the link's webhook is next checked: a day or so after the last check, sooner on evidence. */
    webhookCheckDueAt: timestamptz('webhook_check_due_at'),
    /** A release (by its `released_at`) the sweep applied before its delivery arrived: evidence for a check. */
    webhookSuspectSince: timestamptz('webhook_suspect_since'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('heroku_links_reconcile_due_idx')
      .on(t.nextReconcileAt)
      .where(sql`${t.enabled}`),
    index('heroku_links_account_idx').on(t.accountId),
  ],
);

export const webhookEventOutcomes = [
  'applied',
  'coalesced',
  'unchanged',
  'stale',
  'waiting',
  'dropped',
  'ignored',
  'failed',
] as const;
export type WebhookEventOutcome = (typeof webhookEventOutcomes)[number];

/**
 * Every webhook event the worker has seen, once per Heroku event id and link (Heroku sends one event id to
 * every webhook of an app, so two links of one app see the same id).
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    eventId: uuid('event_id').notNull(),
    linkId: uuid('link_id').notNull(),
    appId: uuid('app_id').notNull(),
    releaseVersion: integer('release_version').notNull(),
    action: text('action').notNull(),
    releaseStatus: text('release_status').notNull(),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
    processedAt: timestamptz('processed_at'),
    outcome: text('outcome', { enum: webhookEventOutcomes }),
    attempts: integer('attempts').notNull().default(1),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.linkId] }),
    index('webhook_events_link_idx').on(t.linkId, t.releaseVersion),
  ],
);

/** Append-only (a trigger refuses UPDATE and DELETE). Holds redacted values and fingerprints, never a value. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamptz('at').notNull().defaultNow(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id),
    linkId: uuid('link_id'),
    action: text('action', { enum: auditActions }).notNull(),
    varName: text('var_name'),
    beforeRedacted: text('before_redacted'),
    afterRedacted: text('after_redacted'),
    beforeFingerprint: text('before_fingerprint'),
    afterFingerprint: text('after_fingerprint'),
    releaseVersion: integer('release_version'),
    eventId: uuid('event_id'),
    actor: text('actor').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('audit_log_project_idx').on(t.projectId, t.id),
    check('audit_log_action_check', sql`${t.action} in (${sqlList(auditActions)})`),
  ],
);

/**
 * A Heroku webhook left on an app the link no longer syncs (the link moved to another app, or a webhook was
 * created for the old app while it moved): deleted at once when possible, else by the link's next reconcile.
 */
export const webhookCleanups = pgTable(
  'webhook_cleanups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    linkId: uuid('link_id')
      .notNull()
      .references(() => herokuLinks.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => herokuAccounts.id),
    appId: uuid('app_id').notNull(),
    webhookId: uuid('webhook_id').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_cleanups_link_idx').on(t.linkId)],
);

export const destinationKinds = ['webhook', 'hasura', 'file'] as const;
export type DestinationKindName = (typeof destinationKinds)[number];
export const destinationStates = ['active', 'failing', 'disabled'] as const;
export type DestinationState = (typeof destinationStates)[number];

/** Where a project's committed values go next (`@hds/destinations`). */
export const destinations = pgTable(
  'destinations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: destinationKinds }).notNull(),
    /** The kind's config, without secrets (shown in listings). */
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    /** The kind's secrets as JSON, encrypted (keyring ciphertext bound to the destination id). */
    secretsEncrypted: text('secrets_encrypted'),
    /** The env vars it carries; `null`: every var of the project. */
    vars: jsonb('vars').$type<string[]>(),
    state: text('state', { enum: destinationStates }).notNull().default('active'),
    /** Since when every attempt failed (`failing`); past `DESTINATIONS_DISABLE_AFTER_MS` it is disabled. */
    failingSince: timestamptz('failing_since'),
    lastDeliveryAt: timestamptz('last_delivery_at'),
    lastError: text('last_error'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('destinations_project_idx').on(t.projectId),
    check('destinations_kind_check', sql`${t.kind} in (${sqlList(destinationKinds)})`),
    check('destinations_state_check', sql`${t.state} in (${sqlList(destinationStates)})`),
  ],
);

export const deliveryStatuses = [
  'pending',
  'delivered',
  /** The last attempt failed; it will be retried at `next_attempt_at`. */
  'failed',
  'gave_up',
  /** A newer value of the same var for the same destination came first: never sent after it. */
  'superseded',
  /** Nothing was written: the target only picks the value up on a restart. */
  'needs_restart',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/**
 * The transactional outbox: one row per committed change of a var per destination that carries it, inserted by
 * `hds_put_env_var` in the change's transaction. The value travels as the env var's ciphertext (same binding).
 */
export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    destinationId: uuid('destination_id')
      .notNull()
      .references(() => destinations.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id').notNull(),
    /** `null` for a test delivery. */
    varName: text('var_name'),
    valueEncrypted: text('value_encrypted'),
    valueFingerprint: text('value_fingerprint'),
    releaseVersion: integer('release_version'),
    test: boolean('test').notNull().default(false),
    status: text('status', { enum: deliveryStatuses }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamptz('next_attempt_at').notNull().defaultNow(),
    /** An attempt in progress until then (one sender at a time per destination and var). */
    leaseUntil: timestamptz('lease_until'),
    /** When the relay last put it on the queue. */
    enqueuedAt: timestamptz('enqueued_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastLatencyMs: integer('last_latency_ms'),
    /** When the value was committed (the change's transaction time). */
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    deliveredAt: timestamptz('delivered_at'),
  },
  (t) => [
    index('deliveries_destination_idx').on(t.destinationId, t.createdAt),
    index('deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'failed')`),
    index('deliveries_var_idx').on(t.destinationId, t.varName),
    check('deliveries_status_check', sql`${t.status} in (${sqlList(deliveryStatuses)})`),
  ],
);

/** Every attempt of a delivery: when, the answer (status code or error) and how long it took. */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    at: timestamptz('at').notNull().defaultNow(),
    outcome: text('outcome').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    latencyMs: integer('latency_ms').notNull(),
  },
  (t) => [index('delivery_attempts_delivery_idx').on(t.deliveryId, t.id)],
);

/** Bearer tokens that read one project's revealed env (a receiver's credential). Only a hash is stored. */
export const projectTokens = pgTable(
  'project_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** SHA-256 of the token (hex): the token is random, so a fast hash is enough. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    lastUsedAt: timestamptz('last_used_at'),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [index('project_tokens_project_idx').on(t.projectId)],
);

/** A data migration's states, in the order a migration goes through them (then one of the last three). */
export const dataMigrationStates = [
  'queued',
  'preflight',
  'schema',
  'copying',
  'constraints',
  'verifying',
  'cutover',
  'done',
  'failed',
  'cancelled',
] as const;
export type DataMigrationState = (typeof dataMigrationStates)[number];

/** One table's progress (partitions are listed under their parent, whose counts are their sums). */
export interface DataMigrationTable {
  name: string;
  rows: number;
  rowsCopied: number;
  bytes: number;
  bytesCopied: number;
  done: boolean;
  partitions?: DataMigrationTable[];
}

/** The encryption context of a migration's target URL: its ciphertext is bound to its migration. */
export const dataMigrationTargetContext = (migrationId: string) => `data-migration:${migrationId}:target`;

/**
 * A copy of a project's Heroku Postgres to a target database (packages/migrate-data). The target URL is encrypted
 * like an env var value; job data holds only the migration's id.
 */
export const dataMigrations = pgTable(
  'data_migrations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    linkId: uuid('link_id')
      .notNull()
      .references(() => herokuLinks.id, { onDelete: 'cascade' }),
    targetUrlEncrypted: text('target_url_encrypted').notNull(),
    targetRedacted: text('target_redacted').notNull(),
    cutover: boolean('cutover').notNull().default(false),
    maintenance: boolean('maintenance').notNull().default(false),
    state: text('state', { enum: dataMigrationStates }).notNull().default('queued'),
    tables: jsonb('tables').$type<DataMigrationTable[]>().notNull().default([]),
    bytesCopied: bigint('bytes_copied', { mode: 'number' }).notNull().default(0),
    bytesTotal: bigint('bytes_total', { mode: 'number' }).notNull().default(0),
    /** The target's objects before the schema went in (oids by catalog): what a cancel must not drop. */
    targetBaseline: jsonb('target_baseline').$type<Record<string, string[]>>(),
    /** Whether this migration put the Heroku app in maintenance mode (and so must take it out). */
    maintenanceOn: boolean('maintenance_on').notNull().default(false),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    error: text('error'),
    cutoverAt: timestamptz('cutover_at'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    index('data_migrations_project_idx').on(t.projectId, t.createdAt),
    // One migration at a time per project.
    uniqueIndex('data_migrations_one_active_idx')
      .on(t.projectId)
      .where(sql`${t.state} not in ('done', 'failed', 'cancelled')`),
    check('data_migrations_state_check', sql`${t.state} in (${sqlList(dataMigrationStates)})`),
  ],
);
