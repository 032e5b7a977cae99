import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
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
