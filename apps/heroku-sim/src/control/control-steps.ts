import type { SimContext } from '../sim-context.js';
import { POSTGRES_ACTOR, PRIMARY_ATTACHMENT, attachmentVar, databaseUrl } from '../state/databases.js';
import type { App, Attachment, DatabaseCredentials, PostgresAddon } from '../state/model.js';
import type { ReleasePhase } from '../state/releases.js';
import type { CreateAppInput } from '../state/store.js';
import type { SimAppCreated, SimPreload } from './controls.js';

/** The steps the synchronous controls (in memory) and the awaited ones (real databases) share. */

export type CreateAppControlInput = { name: string; accountId: string } & Pick<
  CreateAppInput,
  'extraDatabases' | 'configVars'
>;

export interface RotateCredentialsInput {
  app: string;
  /** The attachment (`DATABASE`, `HEROKU_POSTGRESQL_BRONZE`) or its config var; default `DATABASE`. */
  database?: string;
  releasePhase?: ReleasePhase;
}

/** The app and the database a rotation changes, or a 404. */
export function rotationTarget(
  ctx: SimContext,
  input: Pick<RotateCredentialsInput, 'app' | 'database'>,
): { app: App; attachment: Attachment; addon: PostgresAddon } {
  const app = ctx.store.requireApp(input.app);
  const name = input.database?.replace(/_URL$/, '') ?? PRIMARY_ATTACHMENT;
  return { app, ...ctx.store.requireAttachment(app, name) };
}

/**
 * The part of a rotation Heroku's API shows: the database's new password in the URL of every attachment of it and
 * a release `Update <ATTACHMENT> by heroku-postgresql`, whose events are delivered.
 */
export function releaseRotation(
  ctx: SimContext,
  input: { app: App; attachment: Attachment; addon: PostgresAddon; password: string; releasePhase?: ReleasePhase },
): { version: number; databaseUrl: string } {
  const { app, attachment, addon } = input;
  ctx.store.setDatabasePassword(app, addon, input.password);
  const url = databaseUrl(addon);
  const changes = Object.fromEntries(
    app.attachments.filter((a) => a.addonId === addon.id).map((a) => [attachmentVar(a.name), url]),
  );
  const release = ctx.releases.create({
    app,
    changes,
    description: `Update ${attachment.name} by heroku-postgresql`,
    user: POSTGRES_ACTOR,
    ...(input.releasePhase ? { releasePhase: input.releasePhase } : {}),
  });
  return { version: release.version, databaseUrl: url };
}

/** An app with its databases (real ones made beforehand, or made-up credentials) and release 1. */
export function createAppIn(
  ctx: SimContext,
  input: CreateAppControlInput & { databases?: DatabaseCredentials[] },
): SimAppCreated {
  const app = ctx.store.createApp({ ...input, ownerId: input.accountId });
  return { id: app.id, name: app.name, databaseUrl: app.config[attachmentVar(PRIMARY_ATTACHMENT)] ?? '' };
}

/** Drops every account, app, token, fault and record (OAuth clients stay). */
export function forgetEverything(ctx: SimContext): void {
  ctx.timers.clear();
  ctx.work.abandon();
  ctx.deliveries.reset();
  ctx.store.reset();
  ctx.oauth.reset();
  ctx.faults.clear();
  ctx.rateLimiter.reset();
  ctx.requestLog.clear();
}

/**
 * The preloaded account (with its fixed API key) and apps, unless they exist: a sim that kept its state
 * starts with them as they were. Returns the names of the apps still to create.
 */
export function preloadAccount(
  ctx: SimContext,
  preload: SimPreload | undefined,
): { accountId: string; missingApps: string[] } | undefined {
  if (!preload) return undefined;
  const existing = ctx.store.findAccountByEmail(preload.email);
  const account =
    existing ??
    ctx.store.createAccount({
      email: preload.email,
      ...(preload.apiKey !== undefined ? { apiKey: preload.apiKey } : {}),
    });
  if (existing && preload.apiKey !== undefined && existing.apiKey !== preload.apiKey) {
    ctx.store.setApiKey(existing.id, preload.apiKey);
  }
  const missingApps = (preload.apps ?? []).filter((name) => !ctx.store.findApp(name));
  return { accountId: account.id, missingApps };
}
