import { deliveryView, type DeliveryView } from '../delivery/delivery-record.js';
import { faultsSchema, type Faults, type FaultsInput } from '../faults/faults.js';
import type { RecordedRequest, RequestFilter } from '../api/request-log.js';
import type { OAuthClient } from '../oauth/oauth-state.js';
import type { SimContext } from '../sim-context.js';
import { herokuTime } from '../support/clock.js';
import { herokuErrors } from '../support/heroku-error.js';
import { POSTGRES_ACTOR, newPassword } from '../state/databases.js';
import type { Actor, App, ReleaseStatus } from '../state/model.js';
import type { ReleasePhase } from '../state/releases.js';
import { describeConfigChange } from '../state/releases.js';
import {
  createAppIn,
  forgetEverything,
  preloadAccount,
  releaseRotation,
  rotationTarget,
  type CreateAppControlInput,
  type RotateCredentialsInput,
} from './control-steps.js';

export interface SimAccount {
  id: string;
  email: string;
  apiKey: string;
}

export interface SimAppCreated {
  id: string;
  name: string;
  databaseUrl: string;
}

export interface SimWebhookView {
  id: string;
  app: { id: string; name: string };
  include: string[];
  level: string;
  url: string;
  secret: string;
  authorization: string | null;
  createdAt: string;
}

export interface DeliveryFilter {
  /** App name or id. */
  app?: string;
  webhookId?: string;
  eventId?: string;
  status?: string;
}

/** The data a sim starts with (and returns to on reset): one account with a fixed API key and its apps. */
export interface SimPreload {
  email: string;
  apiKey?: string;
  apps?: string[];
}

/** The synchronous controls make no real databases: with `SIM_POSTGRES_URL` the awaited ones are the way. */
function assertNoRealDatabases(ctx: SimContext, control: string): void {
  if (ctx.appDatabases) {
    throw new Error(`heroku-sim has real databases: use \`await sim.${control}Async(…)\` instead of ${control}`);
  }
}

/** The test controls, shared by the programmatic API and the `/_sim/` routes. */
export function createControls(ctx: SimContext, options: { preload: SimPreload | undefined }) {
  const toAccount = (a: { id: string; email: string; apiKey: string }): SimAccount => ({
    id: a.id,
    email: a.email,
    apiKey: a.apiKey,
  });
  const ownerActor = (app: App): Actor => {
    const owner = ctx.store.getAccount(app.ownerId);
    return owner ? { id: owner.id, email: owner.email } : POSTGRES_ACTOR;
  };

  const controls = {
    createAccount(input: { email: string; apiKey?: string }): SimAccount {
      return toAccount(ctx.store.createAccount(input));
    },

    accounts(): SimAccount[] {
      return ctx.store.listAccounts().map(toAccount);
    },

    /** An app owned by `accountId` with a Heroku Postgres database (`DATABASE_URL`) and release 1. */
    createApp(input: CreateAppControlInput): SimAppCreated {
      assertNoRealDatabases(ctx, 'createApp');
      return createAppIn(ctx, input);
    },

    /** Deletes an app as if its owner destroyed it: the API answers 404 for it from now on. */
    deleteApp(input: { app: string }): void {
      assertNoRealDatabases(ctx, 'deleteApp');
      ctx.store.deleteApp(input.app);
    },

    configVars(input: { app: string }): Record<string, string> {
      return { ...ctx.store.requireApp(input.app).config };
    },

    /**
     * Sets or removes (null) config vars out of band, as the owner (or `actor`) would, making a release
     * whose events are delivered.
     */
    setConfigVars(input: {
      app: string;
      vars: Record<string, string | null>;
      actor?: Actor;
      releasePhase?: ReleasePhase;
    }): { version: number } {
      const app = ctx.store.requireApp(input.app);
      if (Object.keys(input.vars).length === 0) throw herokuErrors.invalidParams('No config vars given.');
      const release = ctx.releases.create({
        app,
        changes: input.vars,
        description: describeConfigChange(input.vars),
        user: input.actor ?? ownerActor(app),
        ...(input.releasePhase ? { releasePhase: input.releasePhase } : {}),
      });
      return { version: release.version };
    },

    /**
     * What Heroku Postgres does on `pg:credentials:rotate` or maintenance: a new password in the database's
     * URL (same user, host and database) and a release `Update <ATTACHMENT> by heroku-postgresql`.
     */
    rotateCredentials(input: RotateCredentialsInput): { version: number; databaseUrl: string } {
      assertNoRealDatabases(ctx, 'rotateCredentials');
      return releaseRotation(ctx, {
        ...rotationTarget(ctx, input),
        password: newPassword(),
        ...(input.releasePhase ? { releasePhase: input.releasePhase } : {}),
      });
    },

    /** Ends a held release phase. */
    finishRelease(input: { app: string; version: number; status: Exclude<ReleaseStatus, 'pending'> }): {
      version: number;
      status: string;
    } {
      const app = ctx.store.requireApp(input.app);
      const release = ctx.releases.finish({
        app,
        release: ctx.store.requireRelease(app, String(input.version)),
        status: input.status,
      });
      return { version: release.version, status: release.status };
    },

    /** Webhooks of an app with their secrets (which the Platform API never shows again). */
    webhooks(input: { app: string }): SimWebhookView[] {
      const app = ctx.store.requireApp(input.app);
      return app.webhooks.map((w) => ({
        id: w.id,
        app: { id: app.id, name: app.name },
        include: [...w.include],
        level: w.level,
        url: w.url,
        secret: w.secret,
        authorization: w.authorization,
        createdAt: herokuTime(w.createdAt),
      }));
    },

    /** Removes a webhook behind the service's back (someone deleted it on the dashboard). */
    deleteWebhook(input: { app: string; webhookId: string }): void {
      ctx.store.deleteWebhook(ctx.store.requireApp(input.app), input.webhookId);
    },

    registerOAuthClient(input: { id?: string; secret?: string; redirectUri?: string; name?: string }): OAuthClient {
      return ctx.oauth.registerClient(input);
    },

    /** Makes OAuth access tokens (of one account, or all) expire now; refresh tokens still work. */
    expireAccessTokens(input: { accountId?: string } = {}): { expired: number } {
      return { expired: ctx.oauth.expireAccessTokens(input.accountId) };
    },

    /** The user revoked the authorization: access and refresh tokens stop working; optionally a new API key. */
    revokeTokens(input: { accountId: string; apiKey?: boolean }): { revoked: number; apiKey?: string } {
      const account = ctx.store.requireAccount(input.accountId);
      const revoked = ctx.oauth.revokeTokens(account.id);
      return input.apiKey ? { revoked, apiKey: ctx.store.regenerateApiKey(account.id) } : { revoked };
    },

    /** Replaces the faults in force (validated; throws 422 on a bad shape) and applies budgets now. */
    setFaults(input: FaultsInput): Faults {
      const parsed = faultsSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw herokuErrors.invalidParams(`Invalid faults: ${issue ? `${issue.path.join('.')}: ${issue.message}` : ''}`);
      }
      for (const budget of parsed.data.budgets ?? []) {
        ctx.store.requireAccount(budget.accountId);
        ctx.rateLimiter.override(budget.accountId, budget);
      }
      ctx.faults.set(parsed.data);
      return parsed.data;
    },

    /** No more faults; overridden budgets go back to the default settings, full. Held deliveries are sent. */
    clearFaults(): void {
      ctx.faults.clear();
      ctx.rateLimiter.clearOverrides();
      ctx.deliveries.releaseHeld();
    },

    faults(): Faults {
      return ctx.faults.current();
    },

    requests(filter: RequestFilter = {}): RecordedRequest[] {
      return ctx.requestLog.list(filter);
    },

    clearRequests(): void {
      ctx.requestLog.clear();
    },

    deliveries(filter: DeliveryFilter = {}): DeliveryView[] {
      return ctx.deliveries
        .list()
        .filter(
          (d) =>
            (filter.app === undefined || d.appId === filter.app || d.appName === filter.app) &&
            (filter.webhookId === undefined || d.webhookId === filter.webhookId) &&
            (filter.eventId === undefined || d.eventId === filter.eventId) &&
            (filter.status === undefined || d.status === filter.status),
        )
        .map(deliveryView);
    },

    /** Sends the deliveries the `reorder` fault holds, newest first. */
    releaseHeldDeliveries(): { released: number } {
      return { released: ctx.deliveries.releaseHeld() };
    },

    /**
     * Resolves when nothing is under way: every delivery has succeeded, failed (retries exhausted) or been
     * dropped, and no release phase is running. Held deliveries do not count until released.
     */
    settled(): Promise<void> {
      return ctx.work.idle();
    },

    /** Back to the start: no accounts, apps, faults, records (the preload is applied again). */
    reset(): void {
      assertNoRealDatabases(ctx, 'reset');
      forgetEverything(ctx);
      controls.applyPreload();
    },

    applyPreload(): void {
      assertNoRealDatabases(ctx, 'applyPreload');
      const preload = preloadAccount(ctx, options.preload);
      for (const name of preload?.missingApps ?? []) createAppIn(ctx, { name, accountId: preload!.accountId });
    },
  };
  return controls;
}

export type SimControls = ReturnType<typeof createControls>;
