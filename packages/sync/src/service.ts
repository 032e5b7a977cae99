import { scrubSecrets } from '@hds/core';
import { herokuAccounts, type Database } from '@hds/db';
import type { OAuthTokens } from '@hds/heroku';
import { asc, eq } from 'drizzle-orm';
import { AccountCredentials, toAccountView, type AccountView } from './accounts.js';
import { listAudit, type AuditEntry } from './audit.js';
import { createContext, type SyncContext, type SyncDeps } from './context.js';
import { disableSync } from './disable.js';
import { enableSync, lookUpApp } from './enable.js';
import { listEnvVars, setEnvVar, type EnvVarView } from './env-vars.js';
import { reencryptCredentials } from './key-rotation.js';
import { SyncError } from './errors.js';
import { findLinkByProject, rearmAccountLinks, toSyncStatus, type SyncStatus } from './links.js';
import { parseMappings } from './mappings.js';
import { findProject, insertProject, listProjects, type ProjectRow } from './projects.js';
import { claimDueLinks, reconcileLink, type ReconcileReason, type ReconcileResult } from './reconcile.js';
import { processReleaseEvent, type ReleaseEventJob, type ReleaseEventResult } from './release-events.js';
import { setLinkState } from './release-path/index.js';
import { claimDueSweeps, sweepAccount, type SweepResult } from './sweep.js';

export interface ProjectView extends ProjectRow {
  sync: SyncStatus;
}

/**
 * The domain, as the apps use it: the worker processes release events and reconciles links; the admin
 * manages projects, accounts, env vars and syncs. Everything else in this package is its parts.
 */
export class SyncService {
  readonly ctx: SyncContext;
  readonly credentials: AccountCredentials;

  constructor(deps: SyncDeps) {
    this.ctx = createContext(deps);
    this.credentials = new AccountCredentials(this.ctx);
  }

  private get db(): Database {
    return this.ctx.db;
  }

  // --- worker -------------------------------------------------------------------------------------

  processReleaseEvent(job: ReleaseEventJob, owner: string): Promise<ReleaseEventResult> {
    return processReleaseEvent(this.ctx, this.credentials, { job, owner });
  }

  reconcileLink(linkId: string, reason: ReconcileReason, owner: string): Promise<ReconcileResult> {
    return reconcileLink(this.ctx, this.credentials, { linkId, reason, owner });
  }

  /** Re-encrypts stored credentials under the primary key of ENCRYPTION_KEYS (after a key rotation). */
  reencryptCredentials(): Promise<{
    envVars: number;
    accounts: number;
    destinations: number;
    deliveries: number;
    migrations: number;
  }> {
    return reencryptCredentials(this.ctx);
  }

  /** A job for the link gave up after its last attempt: show it on the link (state `error`). */
  async markLinkFailing(linkId: string, message: string): Promise<void> {
    await setLinkState(this.db, {
      linkId,
      state: 'error',
      lastError: scrubSecrets(message).slice(0, 500),
      actor: 'system',
    });
  }

  /** Polling per link (`RECONCILE_MODE=per-link`): the links due for a check, booked. */
  claimDueLinks(limit: number): Promise<{ linkId: string; slot: number }[]> {
    return claimDueLinks(this.ctx, { limit });
  }

  /** Sweeping (`RECONCILE_MODE=sweep`): the accounts due for a sweep, claimed. */
  claimDueSweeps(limit: number): Promise<{ accountId: string; slot: number }[]> {
    return claimDueSweeps(this.ctx, { limit });
  }

  sweepAccount(accountId: string, owner: string): Promise<SweepResult> {
    return sweepAccount(this.ctx, this.credentials, { accountId, owner });
  }

  // --- accounts -----------------------------------------------------------------------------------

  /**
   * Stores a Heroku credential (checked with `GET /account`). Signing in again as the same user updates it and
   * re-arms that account's links that were waiting for re-authorization; their ids are returned so the
   * caller can reconcile them now.
   */
  async addAccount(
    credential: { apiKey: string } | { oauth: OAuthTokens },
  ): Promise<{ account: AccountView; rearmedLinks: string[] }> {
    const account = await this.credentials.add(credential);
    const rearmedLinks = await rearmAccountLinks(this.db, { accountId: account.id, actor: 'admin' });
    return { account, rearmedLinks };
  }

  async getAccount(accountId: string): Promise<AccountView> {
    const [row] = await this.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    if (!row) throw new SyncError('not_found', 'no such Heroku account');
    return toAccountView(row);
  }

  async listAccounts(): Promise<AccountView[]> {
    const rows = await this.db.select().from(herokuAccounts).orderBy(asc(herokuAccounts.createdAt));
    return rows.map(toAccountView);
  }

  /** The account's apps (every page), for the app picker. */
  async listApps(accountId: string): Promise<{ id: string; name: string }[]> {
    await this.getAccount(accountId);
    const apps = await this.credentials.client(accountId).listApps();
    return apps.map((app) => ({ id: app.id, name: app.name })).sort((a, b) => a.name.localeCompare(b.name));
  }

  // --- projects -----------------------------------------------------------------------------------

  private async requireProject(projectId: string): Promise<ProjectRow> {
    const project = await findProject(this.db, projectId);
    if (!project) throw new SyncError('not_found', 'no such project');
    return project;
  }

  /**
   * Creates a project with optional env vars. With a Heroku app, the sync is enabled at once: a project
   * created with a Heroku database gets it by default.
   */
  async createProject(options: {
    name: string;
    env?: Record<string, string>;
    heroku?: { accountId: string; app: string; mappings?: unknown };
  }): Promise<ProjectView> {
    const mappings = options.heroku ? parseMappings(options.heroku.mappings) : undefined;
    if (options.heroku) {
      await this.getAccount(options.heroku.accountId);
      // Checked before anything is written: a creation refused for the app leaves no project behind.
      await lookUpApp(this.credentials, options.heroku.accountId, options.heroku.app);
    }
    const project = await insertProject(this.db, options.name);
    for (const [name, value] of Object.entries(options.env ?? {})) {
      await setEnvVar(this.db, this.ctx.keyring, { projectId: project.id, name, value, actor: 'admin' });
    }
    if (options.heroku && mappings) {
      await enableSync(this.ctx, this.credentials, {
        projectId: project.id,
        accountId: options.heroku.accountId,
        app: options.heroku.app,
        mappings,
      });
    }
    return this.getProject(project.id);
  }

  async getProject(projectId: string): Promise<ProjectView> {
    const project = await this.requireProject(projectId);
    return { ...project, sync: toSyncStatus(await findLinkByProject(this.db, projectId)) };
  }

  async listProjects(limit = 200): Promise<ProjectView[]> {
    const projects = await listProjects(this.db, { limit });
    return Promise.all(
      projects.map(async (p) => ({ ...p, sync: toSyncStatus(await findLinkByProject(this.db, p.id)) })),
    );
  }

  async listEnvVars(projectId: string, reveal: boolean): Promise<EnvVarView[]> {
    await this.requireProject(projectId);
    return listEnvVars(this.db, this.ctx.keyring, { projectId, reveal });
  }

  async setEnvVar(projectId: string, name: string, value: string): Promise<{ changed: boolean }> {
    await this.requireProject(projectId);
    return setEnvVar(this.db, this.ctx.keyring, { projectId, name, value, actor: 'admin' });
  }

  async listAudit(projectId: string, options: { limit: number; before?: number }): Promise<AuditEntry[]> {
    await this.requireProject(projectId);
    return listAudit(this.db, { projectId, ...options });
  }

  // --- the sync -----------------------------------------------------------------------------------

  async getSyncStatus(projectId: string): Promise<SyncStatus> {
    await this.requireProject(projectId);
    return toSyncStatus(await findLinkByProject(this.db, projectId));
  }

  async enableSync(options: {
    projectId: string;
    accountId: string;
    app: string;
    mappings?: unknown;
  }): Promise<SyncStatus> {
    const mappings = parseMappings(options.mappings);
    await this.requireProject(options.projectId);
    await this.getAccount(options.accountId);
    const link = await enableSync(this.ctx, this.credentials, {
      projectId: options.projectId,
      accountId: options.accountId,
      app: options.app,
      mappings,
    });
    return toSyncStatus(link);
  }

  async disableSync(projectId: string): Promise<{ webhookDeleted: boolean }> {
    await this.requireProject(projectId);
    return disableSync(this.ctx, this.credentials, { projectId });
  }

  /** The link to reconcile for a project's manual "check now". */
  async linkIdForReconcile(projectId: string): Promise<string> {
    await this.requireProject(projectId);
    const link = await findLinkByProject(this.db, projectId);
    if (!link?.enabled) throw new SyncError('not_found', 'the sync is not enabled for this project');
    return link.id;
  }
}
