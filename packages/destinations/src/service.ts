import { createHash, randomBytes } from 'node:crypto';
import type { Keyring } from '@hds/core';
import {
  auditLog,
  deliveries,
  destinations,
  projectEnvVars,
  projects,
  projectTokens,
  type Database,
  type DeliveryStatus,
  type DestinationKindName,
  type DestinationState,
} from '@hds/db';
import { findLinkByProject, SyncError, type AuditActor } from '@hds/sync';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { DestinationConfigError, type DestinationKind } from './kinds/kind.js';
import { generateWebhookSecret, type WebhookSecrets } from './kinds/webhook.js';
import { destinationSecretsContext } from './secrets-context.js';

export interface DestinationView {
  id: string;
  kind: DestinationKindName;
  state: DestinationState;
  vars: string[] | null;
  config: Record<string, unknown>;
  lastDeliveryAt: string | null;
  lastError: string | null;
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  varName: string | null;
  releaseVersion: number | null;
  test: boolean;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastLatencyMs: number | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const TOKEN_PREFIX = 'hds_pt_';
const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Destinations, their deliveries and project read tokens, as the admin API sees them. Every change writes its
 * audit row in its own transaction; secrets are encrypted and shown once.
 */
export class DestinationsService {
  constructor(
    private readonly deps: {
      db: Database;
      keyring: Keyring;
      kinds: Readonly<Partial<Record<DestinationKindName, DestinationKind<unknown, unknown, unknown>>>>;
    },
  ) {}

  get kindNames(): DestinationKindName[] {
    return Object.keys(this.deps.kinds) as DestinationKindName[];
  }

  private async requireProject(projectId: string): Promise<void> {
    const [row] = await this.deps.db.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
    if (!row) throw new SyncError('not_found', 'no such project');
  }

  /** Adds a destination and, in the same transaction, a delivery of the current value of each of its vars. */
  async create(input: {
    projectId: string;
    kind: DestinationKindName;
    vars?: string[] | undefined;
    body: unknown;
  }): Promise<DestinationView & { shownOnce: Record<string, string> }> {
    const kind = this.deps.kinds[input.kind];
    if (!kind) throw new SyncError('invalid', `destinations of kind ${input.kind} are not available`);
    await this.requireProject(input.projectId);
    const parsed = kind.createInput.safeParse(input.body);
    if (!parsed.success) throw new SyncError('invalid', z.prettifyError(parsed.error));
    const vars = input.vars && input.vars.length > 0 ? [...new Set(input.vars)] : null;
    let prepared;
    try {
      prepared = await kind.prepare({
        input: parsed.data,
        context: { projectId: input.projectId, vars, projectVars: await this.projectVars(input.projectId) },
      });
    } catch (err) {
      if (err instanceof DestinationConfigError) throw new SyncError('invalid', err.message);
      throw err;
    }
    const { keyring } = this.deps;
    const row = await this.deps.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(destinations)
        .values({
          projectId: input.projectId,
          kind: input.kind,
          config: prepared.config as Record<string, unknown>,
          vars: prepared.vars ? [...prepared.vars] : vars,
        })
        .returning();
      if (!created) throw new Error('insert returned no row');
      const secretsEncrypted = keyring.encrypt(
        JSON.stringify(prepared.secrets ?? {}),
        destinationSecretsContext(created.id),
      );
      await tx.update(destinations).set({ secretsEncrypted }).where(eq(destinations.id, created.id));
      await tx.execute(sql`select hds_outbox_initial(${created.id})`);
      await tx.insert(auditLog).values({
        projectId: input.projectId,
        action: 'destination_created',
        actor: 'admin',
        detail: { destinationId: created.id, kind: input.kind, vars: created.vars },
      });
      return created;
    });
    return { ...toView(row), shownOnce: prepared.shownOnce ?? {} };
  }

  /** The vars a project has now: its env vars and the targets of its sync mappings, sorted. */
  private async projectVars(projectId: string): Promise<string[]> {
    const names = new Set<string>();
    const envVars = await this.deps.db
      .select({ name: projectEnvVars.name })
      .from(projectEnvVars)
      .where(eq(projectEnvVars.projectId, projectId));
    for (const { name } of envVars) names.add(name);
    const link = await findLinkByProject(this.deps.db, projectId);
    if (link?.enabled) for (const mapping of link.mappings) names.add(mapping.to);
    return [...names].sort();
  }

  async list(projectId: string): Promise<DestinationView[]> {
    await this.requireProject(projectId);
    const rows = await this.deps.db
      .select()
      .from(destinations)
      .where(eq(destinations.projectId, projectId))
      .orderBy(destinations.createdAt);
    return rows.map(toView);
  }

  private async requireDestination(projectId: string, destinationId: string) {
    const [row] = await this.deps.db
      .select()
      .from(destinations)
      .where(and(eq(destinations.id, destinationId), eq(destinations.projectId, projectId)));
    if (!row) throw new SyncError('not_found', 'no such destination');
    return row;
  }

  async remove(projectId: string, destinationId: string): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const removed = await tx
        .delete(destinations)
        .where(and(eq(destinations.id, destinationId), eq(destinations.projectId, projectId)))
        .returning({ id: destinations.id, kind: destinations.kind });
      if (removed.length === 0) throw new SyncError('not_found', 'no such destination');
      await tx.insert(auditLog).values({
        projectId,
        action: 'destination_deleted',
        actor: 'admin',
        detail: { destinationId, kind: removed[0]?.kind },
      });
    });
  }

  /** Queues a test delivery (`destination.test`), sent even to a failing destination. */
  async sendTest(projectId: string, destinationId: string): Promise<{ deliveryId: string }> {
    await this.requireDestination(projectId, destinationId);
    const [row] = await this.deps.db
      .insert(deliveries)
      .values({ destinationId, projectId, test: true })
      .returning({ id: deliveries.id });
    await this.deps.db.execute(sql`select pg_notify('deliveries_pending', '')`);
    return { deliveryId: row!.id };
  }

  async listDeliveries(projectId: string, destinationId: string, limit: number): Promise<DeliveryView[]> {
    await this.requireDestination(projectId, destinationId);
    const rows = await this.deps.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.destinationId, destinationId))
      .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
      .limit(limit);
    return rows.map((d) => ({
      id: d.id,
      varName: d.varName,
      releaseVersion: d.releaseVersion,
      test: d.test,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      lastLatencyMs: d.lastLatencyMs,
      nextAttemptAt: d.status === 'pending' || d.status === 'failed' ? d.nextAttemptAt.toISOString() : null,
      createdAt: d.createdAt.toISOString(),
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
    }));
  }

  /**
   * Sends deliveries again (same id, so a receiver can tell): one by id, or every failed or given-up one since a
   * time. Only the newest delivery of a destination and var is sent again, so no receiver gets an older value
   * after a newer one; a disabled destination is re-enabled by a redelivery of one of its deliveries.
   */
  async redeliver(input: {
    projectId: string;
    deliveryId?: string;
    failedSince?: Date;
    destinationId?: string;
  }): Promise<{ deliveryIds: string[] }> {
    await this.requireProject(input.projectId);
    return this.deps.db.transaction(async (tx) => {
      const rows = await tx.execute<{ id: string; destination_id: string }>(sql`
        update deliveries d set status = 'pending', next_attempt_at = now(), enqueued_at = null, lease_until = null
        where d.project_id = ${input.projectId}
          ${input.deliveryId ? sql`and d.id = ${input.deliveryId}` : sql`and d.status in ('failed', 'gave_up')`}
          ${input.failedSince ? sql`and d.created_at >= ${input.failedSince.toISOString()}` : sql``}
          ${input.destinationId ? sql`and d.destination_id = ${input.destinationId}` : sql``}
          and d.status <> 'superseded'
          and not exists (select 1 from deliveries n where n.destination_id = d.destination_id
            and n.var_name = d.var_name and n.created_at > d.created_at)
        returning d.id, d.destination_id`);
      if (input.deliveryId && rows.length === 0) {
        const [exists] = await tx
          .select({ id: deliveries.id })
          .from(deliveries)
          .where(and(eq(deliveries.id, input.deliveryId), eq(deliveries.projectId, input.projectId)));
        if (!exists) throw new SyncError('not_found', 'no such delivery');
        throw new SyncError('conflict', 'a newer value of that var was delivered since; it is the one to send');
      }
      if (rows.length > 0) {
        const destinationIds = [...new Set(rows.map((r) => r.destination_id))].join(',');
        await tx.execute(sql`update destinations set state = 'active', failing_since = null, updated_at = now()
          where id::text = any(string_to_array(${destinationIds}, ','))`);
        await tx.insert(auditLog).values({
          projectId: input.projectId,
          action: 'deliveries_redelivered',
          actor: 'admin',
          detail: {
            count: rows.length,
            ...(input.deliveryId ? { deliveryId: input.deliveryId } : {}),
            ...(input.failedSince ? { failedSince: input.failedSince.toISOString() } : {}),
          },
        });
        await tx.execute(sql`select pg_notify('deliveries_pending', '')`);
      }
      return { deliveryIds: rows.map((r) => r.id) };
    });
  }

  /**
   * A new `whsec_` secret for a webhook destination, shown once; the old one keeps signing alongside it (both
   * signatures in `webhook-signature`) for `overlapMs`, so receivers can switch without missing a delivery.
   */
  async rotateWebhookSecret(input: {
    projectId: string;
    destinationId: string;
    overlapMs: number;
  }): Promise<{ secret: string; previousValidUntil: string }> {
    const { keyring } = this.deps;
    return this.deps.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(destinations)
        .where(and(eq(destinations.id, input.destinationId), eq(destinations.projectId, input.projectId)))
        .for('update');
      if (!row) throw new SyncError('not_found', 'no such destination');
      if (row.kind !== 'webhook' || !row.secretsEncrypted) {
        throw new SyncError('invalid', 'only webhook destinations have a signing secret');
      }
      const context = destinationSecretsContext(row.id);
      const current = JSON.parse(keyring.decrypt(row.secretsEncrypted, context)) as WebhookSecrets;
      const secret = generateWebhookSecret();
      const previousValidUntil = new Date(Date.now() + input.overlapMs).toISOString();
      const next: WebhookSecrets = { secret, previousSecret: current.secret, previousUntil: previousValidUntil };
      await tx
        .update(destinations)
        .set({ secretsEncrypted: keyring.encrypt(JSON.stringify(next), context), updatedAt: new Date() })
        .where(eq(destinations.id, row.id));
      await tx.insert(auditLog).values({
        projectId: input.projectId,
        action: 'webhook_secret_rotated',
        actor: 'admin',
        detail: { destinationId: row.id, previousValidUntil },
      });
      return { secret, previousValidUntil };
    });
  }

  /** A read token for one project's revealed env: returned once, stored as a hash. */
  async createToken(projectId: string, name: string): Promise<{ id: string; name: string; token: string }> {
    await this.requireProject(projectId);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    return this.deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(projectTokens)
        .values({ projectId, name, tokenHash: hashToken(token) })
        .returning({ id: projectTokens.id });
      await tx.insert(auditLog).values({
        projectId,
        action: 'token_created',
        actor: 'admin',
        detail: { tokenId: row!.id, name },
      });
      return { id: row!.id, name, token };
    });
  }

  async listTokens(
    projectId: string,
  ): Promise<Array<{ id: string; name: string; createdAt: string; lastUsedAt: string | null }>> {
    await this.requireProject(projectId);
    const rows = await this.deps.db
      .select()
      .from(projectTokens)
      .where(and(eq(projectTokens.projectId, projectId), isNull(projectTokens.revokedAt)))
      .orderBy(projectTokens.createdAt);
    return rows.map((t) => ({
      id: t.id,
      name: t.name,
      createdAt: t.createdAt.toISOString(),
      lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    }));
  }

  async revokeToken(projectId: string, tokenId: string): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const revoked = await tx
        .update(projectTokens)
        .set({ revokedAt: new Date() })
        .where(
          and(eq(projectTokens.id, tokenId), eq(projectTokens.projectId, projectId), isNull(projectTokens.revokedAt)),
        )
        .returning({ id: projectTokens.id });
      if (revoked.length === 0) throw new SyncError('not_found', 'no such token');
      await tx.insert(auditLog).values({ projectId, action: 'token_revoked', actor: 'admin', detail: { tokenId } });
    });
  }

  /** The project a presented token reads, or `null` for an unknown or revoked token. */
  async authenticateToken(token: string): Promise<{ tokenId: string; projectId: string } | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const [row] = await this.deps.db
      .update(projectTokens)
      .set({ lastUsedAt: new Date() })
      .where(and(eq(projectTokens.tokenHash, hashToken(token)), isNull(projectTokens.revokedAt)))
      .returning({ id: projectTokens.id, projectId: projectTokens.projectId });
    return row ? { tokenId: row.id, projectId: row.projectId } : null;
  }

  /** Every reveal of a project's values leaves an audit row (who: `ADMIN_TOKEN` or which read token). */
  async recordReveal(input: {
    projectId: string;
    actor: Extract<AuditActor, 'admin' | 'project_token'>;
    tokenId?: string;
  }): Promise<void> {
    await this.deps.db.insert(auditLog).values({
      projectId: input.projectId,
      action: 'env_revealed',
      actor: input.actor,
      detail: input.tokenId ? { tokenId: input.tokenId } : {},
    });
  }
}

function toView(row: typeof destinations.$inferSelect): DestinationView {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    vars: row.vars,
    config: row.config,
    lastDeliveryAt: row.lastDeliveryAt?.toISOString() ?? null,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
  };
}
