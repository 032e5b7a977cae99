import { randomBytes } from 'node:crypto';
import { herokuErrors } from '../support/heroku-error.js';
import { newId, newToken } from '../support/ids.js';
import type { StateChange, StateChangeListener } from './changes.js';
import {
  attachmentVar,
  createPostgresAddon,
  DATABASE_COLORS,
  databaseUrl,
  PRIMARY_ATTACHMENT,
  unreachableDatabase,
} from './databases.js';
import type {
  Account,
  App,
  Attachment,
  DatabaseCredentials,
  PostgresAddon,
  Release,
  Webhook,
  WebhookEvent,
} from './model.js';

/** Heroku's app name rule (the `app.name` pattern of the Platform API schema). */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CreateAppInput {
  name: string;
  ownerId: string;
  /** Extra Heroku Postgres databases, attached as `HEROKU_POSTGRESQL_<COLOR>`: a count or the colors. */
  extraDatabases?: number | string[];
  /** Config vars the app starts with besides its databases'. */
  configVars?: Record<string, string>;
  /**
   * The databases' credentials in the order of `checkNewApp`'s attachments (primary first): real databases made
   * beforehand. Without them the sim makes up credentials on hosts that do not exist.
   */
  databases?: DatabaseCredentials[];
}

/** Everything the store holds, as the persistence loads it back. */
export interface StoreSnapshot {
  accounts: Account[];
  apps: App[];
}

/**
 * Accounts and apps in memory, with the lookups the Platform API needs. No HTTP, no events. Every change goes
 * through a method here, which tells `onChange` (the persistence, when the sim keeps its state in Postgres).
 */
export class Store {
  private readonly accounts = new Map<string, Account>();
  private readonly apps = new Map<string, App>();

  constructor(
    private readonly now: () => number,
    private readonly onChange: StateChangeListener = () => {},
  ) {}

  private changed(change: StateChange): void {
    this.onChange(change);
  }

  reset(): void {
    this.accounts.clear();
    this.apps.clear();
    this.changed({ kind: 'reset' });
  }

  /** Replaces the state with a loaded one (at start-up); tells nobody, it is already stored. */
  restore(snapshot: StoreSnapshot): void {
    this.accounts.clear();
    this.apps.clear();
    for (const account of snapshot.accounts) this.accounts.set(account.id, account);
    for (const app of snapshot.apps) this.apps.set(app.id, app);
  }

  // --- accounts ---------------------------------------------------------------------------------

  createAccount(input: { email: string; apiKey?: string }): Account {
    const email = input.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw herokuErrors.invalidParams('Email is not a valid address.');
    if (this.findAccountByEmail(email)) throw herokuErrors.invalidParams('Email is already taken.');
    if (input.apiKey !== undefined && this.findAccountByApiKey(input.apiKey)) {
      throw herokuErrors.invalidParams('API key is already in use.');
    }
    const account: Account = { id: newId(), email, apiKey: input.apiKey ?? newToken(), createdAt: this.now() };
    this.accounts.set(account.id, account);
    this.changed({ kind: 'account', account });
    return account;
  }

  listAccounts(): Account[] {
    return [...this.accounts.values()];
  }

  getAccount(id: string): Account | undefined {
    return this.accounts.get(id);
  }

  findAccountByEmail(email: string): Account | undefined {
    const wanted = email.trim().toLowerCase();
    return [...this.accounts.values()].find((a) => a.email === wanted);
  }

  findAccountByApiKey(apiKey: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.apiKey === apiKey);
  }

  /** An account by id or email, or a 404. */
  requireAccount(idOrEmail: string): Account {
    const account = this.accounts.get(idOrEmail) ?? this.findAccountByEmail(idOrEmail);
    if (!account) throw herokuErrors.notFound("Couldn't find that account.");
    return account;
  }

  regenerateApiKey(accountId: string): string {
    return this.setApiKey(accountId, newToken());
  }

  setApiKey(accountId: string, apiKey: string): string {
    const account = this.requireAccount(accountId);
    const holder = this.findAccountByApiKey(apiKey);
    if (holder && holder.id !== account.id) throw herokuErrors.invalidParams('API key is already in use.');
    account.apiKey = apiKey;
    this.changed({ kind: 'account', account });
    return account.apiKey;
  }

  // --- apps -------------------------------------------------------------------------------------

  /**
   * Checks an app could be created as asked (name, owner, extra databases) and says how many databases it has:
   * real databases are made only for input that passes.
   */
  checkNewApp(input: Omit<CreateAppInput, 'databases'>): { owner: Account; attachments: string[] } {
    if (!APP_NAME_PATTERN.test(input.name)) {
      throw herokuErrors.invalidParams(
        'Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes.',
      );
    }
    if (this.findApp(input.name)) throw herokuErrors.invalidParams('Name is already taken');
    const owner = this.requireAccount(input.ownerId);
    const extras = extraDatabaseColors(input.extraDatabases).map((color) => `HEROKU_POSTGRESQL_${color}`);
    return { owner, attachments: [PRIMARY_ATTACHMENT, ...extras] };
  }

  createApp(input: CreateAppInput): App {
    const { owner, attachments } = this.checkNewApp(input);
    if (input.databases !== undefined && input.databases.length !== attachments.length) {
      throw new Error(`${attachments.length} database(s) needed, ${input.databases.length} given`);
    }
    const now = this.now();
    const app: App = {
      id: newId(),
      name: input.name,
      ownerId: owner.id,
      maintenance: false,
      webSuffix: randomBytes(6).toString('hex'),
      config: { ...(input.configVars ?? {}) },
      releases: [],
      addons: [],
      attachments: [],
      webhooks: [],
      events: [],
      createdAt: now,
      updatedAt: now,
    };
    attachments.forEach((name, i) => this.attachDatabase(app, name, input.databases?.[i] ?? unreachableDatabase()));
    // Release 1 holds the initial config; webhooks cannot exist yet, so nothing is delivered.
    const release: Release = {
      id: newId(),
      version: 1,
      description: 'Initial release',
      status: 'succeeded',
      user: { id: owner.id, email: owner.email },
      config: { ...app.config },
      addonPlanNames: this.addonPlanNames(app),
      outputStreamUrl: null,
      createdAt: now,
      updatedAt: now,
    };
    app.releases.push(release);
    this.apps.set(app.id, app);
    this.changed({ kind: 'app', app });
    for (const addon of app.addons) this.changed({ kind: 'addon', app, addon });
    for (const attachment of app.attachments) this.changed({ kind: 'attachment', app, attachment });
    this.changed({ kind: 'release', app, release });
    return app;
  }

  private attachDatabase(app: App, attachmentName: string, credentials: DatabaseCredentials): PostgresAddon {
    const now = this.now();
    const addon = createPostgresAddon({ now, credentials });
    const attachment: Attachment = {
      id: newId(),
      name: attachmentName,
      addonId: addon.id,
      createdAt: now,
      updatedAt: now,
    };
    app.addons.push(addon);
    app.attachments.push(attachment);
    app.config[attachmentVar(attachmentName)] = databaseUrl(addon);
    return addon;
  }

  addonPlanNames(app: App): string[] {
    return app.addons.map((a) => a.planName);
  }

  /** An app by id or name, whoever owns it. */
  findApp(idOrName: string): App | undefined {
    if (UUID_PATTERN.test(idOrName)) return this.apps.get(idOrName.toLowerCase());
    return [...this.apps.values()].find((a) => a.name === idOrName);
  }

  /** An app by id or name, or a 404 (for the /_sim/ controls, which see every account's apps). */
  requireApp(idOrName: string): App {
    const app = this.findApp(idOrName);
    if (!app) throw herokuErrors.appNotFound();
    return app;
  }

  /** The app as its owner sees it; another account's app is a 404, as Heroku answers. */
  requireOwnedApp(idOrName: string, accountId: string): App {
    const app = this.findApp(idOrName);
    if (!app || app.ownerId !== accountId) throw herokuErrors.appNotFound();
    return app;
  }

  appsOwnedBy(accountId: string): App[] {
    return [...this.apps.values()].filter((a) => a.ownerId === accountId);
  }

  listApps(): App[] {
    return [...this.apps.values()];
  }

  deleteApp(idOrName: string): App {
    const app = this.requireApp(idOrName);
    this.apps.delete(app.id);
    this.changed({ kind: 'app-deleted', appId: app.id });
    return app;
  }

  setMaintenance(app: App, maintenance: boolean): App {
    app.maintenance = maintenance;
    app.updatedAt = this.now();
    this.changed({ kind: 'app', app });
    return app;
  }

  /** Applies config changes (null removes a var), as a release does. */
  changeConfig(app: App, changes: Record<string, string | null>): void {
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete app.config[key];
      else app.config[key] = value;
    }
    app.updatedAt = this.now();
    this.changed({ kind: 'app', app });
  }

  /** A new password for a database: what its URL says from now on (the caller changes the config). */
  setDatabasePassword(app: App, addon: PostgresAddon, password: string): void {
    addon.password = password;
    addon.updatedAt = this.now();
    this.changed({ kind: 'addon', app, addon });
  }

  // --- releases and events ----------------------------------------------------------------------

  addRelease(app: App, release: Release): void {
    app.releases.push(release);
    this.changed({ kind: 'release', app, release });
  }

  /** A release's status or output changed. */
  releaseChanged(app: App, release: Release): void {
    this.changed({ kind: 'release', app, release });
  }

  addEvent(app: App, event: WebhookEvent): void {
    app.events.push(event);
    this.changed({ kind: 'event', app, event });
  }

  // --- webhooks ---------------------------------------------------------------------------------

  findWebhook(webhookId: string): { app: App; webhook: Webhook } | undefined {
    for (const app of this.apps.values()) {
      const webhook = app.webhooks.find((w) => w.id === webhookId);
      if (webhook) return { app, webhook };
    }
    return undefined;
  }

  requireWebhook(app: App, webhookId: string): Webhook {
    const webhook = app.webhooks.find((w) => w.id === webhookId.toLowerCase());
    if (!webhook) throw herokuErrors.notFound("Couldn't find that app webhook.");
    return webhook;
  }

  addWebhook(app: App, webhook: Webhook): Webhook {
    app.webhooks.push(webhook);
    this.changed({ kind: 'webhook', app, webhook });
    return webhook;
  }

  /** Changes fields of a webhook (the caller checked them). */
  updateWebhook(
    app: App,
    webhook: Webhook,
    changes: Partial<Pick<Webhook, 'include' | 'level' | 'url' | 'secret' | 'authorization'>>,
  ): Webhook {
    Object.assign(webhook, changes, { updatedAt: this.now() });
    this.changed({ kind: 'webhook', app, webhook });
    return webhook;
  }

  deleteWebhook(app: App, webhookId: string): Webhook {
    const webhook = this.requireWebhook(app, webhookId);
    app.webhooks = app.webhooks.filter((w) => w.id !== webhook.id);
    this.changed({ kind: 'webhook-deleted', webhookId: webhook.id });
    return webhook;
  }

  // --- releases ---------------------------------------------------------------------------------

  /** By id or version; `version` may be a numeric string. */
  requireRelease(app: App, idOrVersion: string): Release {
    const release = /^\d+$/.test(idOrVersion)
      ? app.releases.find((r) => r.version === Number(idOrVersion))
      : app.releases.find((r) => r.id === idOrVersion.toLowerCase());
    if (!release) throw herokuErrors.notFound("Couldn't find that release.");
    return release;
  }

  /** The newest succeeded release is the one running. */
  currentRelease(app: App): Release | undefined {
    for (let i = app.releases.length - 1; i >= 0; i -= 1) {
      const release = app.releases[i]!;
      if (release.status === 'succeeded') return release;
    }
    return undefined;
  }

  requireAttachment(app: App, name: string): { attachment: Attachment; addon: PostgresAddon } {
    const attachment = app.attachments.find((a) => a.name === name || a.id === name);
    const addon = attachment && app.addons.find((a) => a.id === attachment.addonId);
    if (!attachment || !addon) throw herokuErrors.notFound("Couldn't find that add-on attachment.");
    return { attachment, addon };
  }
}

function extraDatabaseColors(extra: number | string[] | undefined): string[] {
  if (extra === undefined) return [];
  if (typeof extra === 'number') {
    if (extra > DATABASE_COLORS.length) throw herokuErrors.invalidParams('Too many databases.');
    return DATABASE_COLORS.slice(0, extra);
  }
  const colors = extra.map((c) => c.toUpperCase());
  for (const color of colors) {
    if (!/^[A-Z]+$/.test(color)) throw herokuErrors.invalidParams(`Not a database color: ${color}`);
  }
  if (new Set(colors).size !== colors.length) throw herokuErrors.invalidParams('Database colors must differ.');
  return colors;
}
