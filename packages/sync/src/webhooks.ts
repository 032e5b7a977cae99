import { createHash } from 'node:crypto';
import { herokuLinks, type DbOrTx } from '@hds/db';
import { deriveWebhookSecret, isHerokuApiError, type HerokuClient } from '@hds/heroku';
import { and, eq } from 'drizzle-orm';
import { appendAudit, type AuditActor } from './audit.js';
import type { SyncContext } from './context.js';
import { queueWebhookCleanup } from './webhook-cleanups.js';

/** Where Heroku delivers a link's events. */
export function webhookUrl(ctx: SyncContext, linkId: string): string {
  return `${ctx.webhooks.publicBaseUrl.replace(/\/+$/, '')}/webhooks/heroku/${linkId}`;
}

/** The secret Heroku signs a link's deliveries with: derived from the first signing key, never stored. */
export function webhookSecret(ctx: SyncContext, linkId: string): string {
  return deriveWebhookSecret(primarySigningKey(ctx), linkId);
}

const primarySigningKey = (ctx: SyncContext) => {
  const [primary] = ctx.webhooks.signingKeys;
  if (primary === undefined) throw new Error('no webhook signing key');
  return primary;
};
const keyHashInput = (signingKey: string) => `heroku-db-sync/webhook-signing-key:${signingKey}`;

/**
 * Names the signing key a webhook's secret was derived from, without revealing it: a keyed fingerprint (HMAC under a
 * key derived from ENCRYPTION_KEYS), so a copy of the database does not let anyone test guesses of the signing key.
 */
export function signingKeyHash(ctx: SyncContext): string {
  return ctx.keyring.fingerprint(keyHashInput(primarySigningKey(ctx)));
}

/**
 * Whether a stored key hash names the current signing key: the keyed form under any key of ENCRYPTION_KEYS (so
 * rotating those moves no webhook), or the unsalted SHA-256 prefix written before it was keyed.
 */
function madeWithCurrentKey(ctx: SyncContext, stored: string | null): boolean {
  if (stored === null) return false;
  const primary = primarySigningKey(ctx);
  const legacy = createHash('sha256').update(primary).digest('hex').slice(0, 12);
  return stored === legacy || ctx.keyring.fingerprintCandidates(keyHashInput(primary)).includes(stored);
}

export type WebhookCheck = 'present' | 'created' | 'recreated' | 'adopted' | 'rotated';

/**
 * Makes sure Heroku has this link's webhook (`api:release`, level `sync`, our URL, the derived secret).
 * Costs one call when it is there. A webhook with our URL that we lost track of (a crash between create and
 * save) is adopted rather than duplicated; a missing one is created again. The link's webhook id is saved.
 */
export async function ensureWebhook(
  ctx: SyncContext,
  options: {
    db: DbOrTx;
    client: HerokuClient;
    link: {
      id: string;
      projectId: string;
      accountId: string;
      appId: string;
      webhookId: string | null;
      webhookKeyHash: string | null;
    };
    actor: AuditActor;
  },
): Promise<{ check: WebhookCheck; webhookId: string }> {
  const { client, link } = options;
  const url = webhookUrl(ctx, link.id);
  if (link.webhookId) {
    try {
      const current = await client.getWebhook(link.appId, link.webhookId);
      if (current.url === url) {
        if (madeWithCurrentKey(ctx, link.webhookKeyHash)) {
          // Recorded in an older form (unsalted, or under an older encryption key): record it keyed, Heroku untouched.
          const keyHash = signingKeyHash(ctx);
          if (link.webhookKeyHash !== keyHash) {
            await options.db.update(herokuLinks).set({ webhookKeyHash: keyHash }).where(eq(herokuLinks.id, link.id));
          }
          return { check: 'present', webhookId: current.id };
        }
        // WEBHOOK_SIGNING_KEYS has a new first key: move the webhook to the secret derived from it.
        await client.updateWebhook(link.appId, current.id, { secret: webhookSecret(ctx, link.id) });
        await record(ctx, options, { webhookId: current.id, check: 'rotated' });
        return { check: 'rotated', webhookId: current.id };
      }
    } catch (err) {
      if (!isHerokuApiError(err, 'not_found')) throw err;
    }
  }
  const secret = webhookSecret(ctx, link.id);
  const mine = (await client.listWebhooks(link.appId)).find((w) => w.url === url);
  let webhookId: string;
  let check: WebhookCheck;
  if (mine) {
    await client.updateWebhook(link.appId, mine.id, { include: ['api:release'], level: 'sync', secret });
    webhookId = mine.id;
    check = 'adopted';
  } else {
    const created = await client.createWebhook(link.appId, { include: ['api:release'], level: 'sync', url, secret });
    webhookId = created.webhook.id;
    check = link.webhookId ? 'recreated' : 'created';
  }
  await record(ctx, options, { webhookId, check });
  return { check, webhookId };
}

const AUDIT_ACTION = {
  created: 'webhook_created',
  adopted: 'webhook_created',
  recreated: 'webhook_recreated',
  rotated: 'webhook_secret_rotated',
} as const;

/** Saves the webhook id and key hash on the link, with an audit row, in one transaction. */
async function record(
  ctx: SyncContext,
  options: Parameters<typeof ensureWebhook>[1],
  change: { webhookId: string; check: Exclude<WebhookCheck, 'present'> },
): Promise<void> {
  const { link } = options;
  await options.db.transaction(async (tx) => {
    const [recorded] = await tx
      .update(herokuLinks)
      .set({ webhookId: change.webhookId, webhookKeyHash: signingKeyHash(ctx) })
      .where(and(eq(herokuLinks.id, link.id), eq(herokuLinks.appId, link.appId)))
      .returning({ id: herokuLinks.id });
    if (!recorded) {
      // The link moved to another app while this webhook was made: it is not the link's any more, and goes (the
      // move queued the one the link had recorded).
      if (change.webhookId !== link.webhookId) {
        const { accountId, appId } = link;
        await queueWebhookCleanup(tx, { linkId: link.id, accountId, appId, webhookId: change.webhookId });
      }
      return;
    }
    await appendAudit(tx, {
      projectId: link.projectId,
      linkId: link.id,
      action: AUDIT_ACTION[change.check],
      actor: options.actor,
      detail: { webhookId: change.webhookId, adopted: change.check === 'adopted', previousWebhookId: link.webhookId },
    });
  });
  ctx.logger.info({ linkId: link.id, webhookId: change.webhookId, check: change.check }, 'webhook ensured');
}
