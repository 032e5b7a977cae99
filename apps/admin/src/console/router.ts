import type { DestinationsService } from '@hds/destinations';
import type { MigrationService } from '@hds/migrate-data';
import type { JobProducer } from '@hds/queue';
import { SyncError, type SyncService } from '@hds/sync';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { appRef, envValue, uuid, varName } from '../api/schemas.js';
import { csrfValid, getSession } from '../auth/session.js';
import { toApiError } from '../http/errors.js';
import { requestLogger } from '../http/request-context.js';
import type { OpenApiDocument } from '../api/openapi-document.js';
import { enqueueReconcile } from '../jobs.js';
import { consoleErrorHandler } from './error-handler.js';
import { setFlash, takeFlash } from './flash.js';
import { FormError, parseForm } from './form.js';
import { consoleJs } from './live-script.js';
import { renderApiReferencePage } from './pages/api-reference-page.js';
import { renderErrorPage } from './pages/error-page.js';
import { renderDestinationCreatedPage } from './pages/destinations-section.js';
import { renderMigrationPage } from './pages/migration-page.js';
import { renderOptOutPage, renderProjectPage } from './pages/project-page.js';
import { renderProjectsPage } from './pages/projects-page.js';
import type { ProjectEvents } from './project-events.js';
import { streamProjectEvents } from './project-stream.js';
import { consoleCss } from './styles.js';

export interface ConsoleDeps {
  sync: SyncService;
  destinations: DestinationsService;
  migrations: MigrationService;
  producer: JobProducer;
  secureCookies: boolean;
  oauthEnabled: boolean;
  reconcileRearmed(linkIds: readonly string[]): Promise<void>;
  /** Changes of projects, pushed to open project pages; without it pages do not follow changes by themselves. */
  projectEvents?: ProjectEvents | undefined;
  /** The admin API's OpenAPI document, shown at `/api-reference`. */
  apiDocument: OpenApiDocument;
}

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  });
  next();
};

const projectParams = z.object({ id: uuid });
const projectQuery = z.object({ account: uuid.optional().catch(undefined) });
const createProjectForm = z.object({
  name: z.string().trim().min(1, 'is required').max(200, 'is too long (200 characters at most)'),
});
const apiKeyForm = z.object({
  apiKey: z.string().trim().min(1, 'is required').max(512, 'is too long (512 characters at most)'),
  project: uuid.optional().or(z.literal('').transform(() => undefined)),
});
const envForm = z.object({ name: varName, value: envValue });
const enableForm = z.object({ accountId: uuid, app: appRef, target: varName });
const optOutForm = z.object({ confirm: z.literal('yes').optional().catch(undefined) });
const destinationParams = z.object({ id: uuid, destinationId: uuid });
const deliveryParams = z.object({ id: uuid, deliveryId: uuid });
const webhookForm = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
  vars: z
    .string()
    .max(2000)
    .optional()
    .transform((text) =>
      (text ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    )
    .pipe(z.array(varName).max(100)),
  includeValue: z.literal('true').optional(),
});
const redeliverForm = z.object({
  destinationId: uuid.optional(),
  hours: z.coerce.number().int().min(1).max(720).default(24),
});
const checkbox = z
  .literal('yes')
  .optional()
  .transform((v) => v === 'yes');
const migrationForm = z.object({
  targetUrl: z.string().trim().min(1, 'is required').max(2048, 'is too long'),
  cutover: checkbox,
  maintenance: checkbox,
});
const migrationParams = z.object({ id: uuid, migrationId: uuid });

/** How each form names its fields, for its error messages. */
const labels = {
  project: { id: 'The project' },
  createProject: { name: 'Project name' },
  apiKey: { apiKey: 'Heroku API key', project: 'The project' },
  env: { name: 'Variable name', value: 'Value' },
  enable: { accountId: 'The Heroku account', app: 'Heroku app', target: 'The variable to write DATABASE_URL to' },
  destination: { id: 'The project', destinationId: 'The destination', deliveryId: 'The delivery' },
  webhook: { url: 'URL', vars: 'Vars', includeValue: 'Include the value' },
  redeliver: { destinationId: 'The destination', hours: 'Hours' },
  migration: { targetUrl: 'Target database URL', cutover: 'Cut over', maintenance: 'Maintenance mode' },
};

/**
 * The console: server-rendered pages, forms posted with a CSRF token, post/redirect/get with flash messages.
 * Mounted behind Basic auth, cookie-parser and the session middleware.
 */
export function createConsoleRouter(deps: ConsoleDeps): Router {
  const router = Router();
  const { sync } = deps;
  const flash = (res: Response, kind: 'ok' | 'error', message: string) =>
    setFlash(res, { kind, message }, deps.secureCookies);

  router.get('/console.css', (_req, res) => {
    res.type('text/css').set('cache-control', 'public, max-age=300').send(consoleCss);
  });
  router.get('/console.js', (_req, res) => {
    res.type('text/javascript').set('cache-control', 'public, max-age=300').send(consoleJs);
  });

  router.use(securityHeaders);
  router.use(express.urlencoded({ extended: false, limit: '64kb' }));
  router.use((req, res, next) => {
    if (req.method !== 'POST' || csrfValid(req, res)) {
      next();
      return;
    }
    res
      .status(403)
      .type('html')
      .send(
        renderErrorPage({
          title: 'This form has expired',
          message: 'The form was not sent from this browser session. Reload the page and try again.',
        }),
      );
  });

  /** Runs a form action; anything it refuses is shown on the page the form came from. */
  const action =
    (handler: (req: Request, res: Response) => Promise<string>, back: (req: Request) => string): RequestHandler =>
    async (req, res) => {
      let target: string;
      try {
        target = await handler(req, res);
      } catch (err) {
        if (err instanceof FormError) {
          flash(res, 'error', err.message);
        } else {
          const apiError = toApiError(err);
          if (apiError.code === 'internal') requestLogger(res).error({ err }, 'console action failed');
          flash(res, 'error', apiError.code === 'internal' ? 'Something went wrong; try again.' : apiError.message);
        }
        target = back(req);
      }
      res.redirect(303, target);
    };
  /** The project of a page's path; a malformed id is a 404 page like a missing project. */
  const pageProjectId = (req: Request): string => {
    const parsed = projectParams.safeParse(req.params);
    if (!parsed.success) throw new SyncError('not_found', 'no such project');
    return parsed.data.id;
  };
  const projectPath = (req: Request) => {
    const id = req.params.id;
    return typeof id === 'string' && uuid.safeParse(id).success ? `/projects/${id}` : '/';
  };

  router.get('/', async (req, res) => {
    const [projects, accounts] = await Promise.all([sync.listProjects(), sync.listAccounts()]);
    res.type('html').send(
      renderProjectsPage({
        projects,
        accounts,
        csrfToken: getSession(res).csrfToken,
        oauthEnabled: deps.oauthEnabled,
        flash: takeFlash(req, res, deps.secureCookies),
      }),
    );
  });

  router.post(
    '/projects',
    action(
      async (req, res) => {
        const form = parseForm(createProjectForm, req.body, labels.createProject);
        const project = await sync.createProject({ name: form.name });
        flash(res, 'ok', `Project ${project.name} created.`);
        return `/projects/${project.id}`;
      },
      () => '/',
    ),
  );

  router.post(
    '/accounts',
    action(
      async (req, res) => {
        const form = parseForm(apiKeyForm, req.body, labels.apiKey);
        const { account, rearmedLinks } = await sync.addAccount({ apiKey: form.apiKey });
        await deps.reconcileRearmed(rearmedLinks);
        flash(res, 'ok', `Heroku account ${account.email} connected.`);
        return form.project ? `/projects/${form.project}?account=${account.id}#sync` : '/';
      },
      (req) => {
        const project = (req.body as { project?: unknown } | undefined)?.project;
        return typeof project === 'string' && uuid.safeParse(project).success ? `/projects/${project}#sync` : '/';
      },
    ),
  );

  router.get('/projects/:id', async (req, res) => {
    const params = projectParams.safeParse(req.params);
    if (!params.success) {
      res
        .status(404)
        .type('html')
        .send(renderErrorPage({ title: 'No such project', message: 'This project does not exist.' }));
      return;
    }
    const { id } = params.data;
    const { account: accountId } = projectQuery.parse(req.query);
    let project;
    try {
      project = await sync.getProject(id);
    } catch (err) {
      if (err instanceof SyncError && err.code === 'not_found') {
        res
          .status(404)
          .type('html')
          .send(renderErrorPage({ title: 'No such project', message: 'This project does not exist.' }));
        return;
      }
      throw err;
    }
    const [vars, accounts, audit, destinationList, migrations] = await Promise.all([
      sync.listEnvVars(id, false),
      sync.listAccounts(),
      sync.listAudit(id, { limit: 50 }),
      deps.destinations.list(id),
      deps.migrations.list(id, 5),
    ]);
    const destinations = await Promise.all(
      destinationList.map(async (destination) => ({
        destination,
        deliveries: await deps.destinations.listDeliveries(id, destination.id, 10),
      })),
    );
    // The app picker, in any state: a sync that is on can move to another app (or the same one under a new id).
    const account = accounts.find((a) => a.id === accountId);
    let apps: { id: string; name: string }[] | undefined;
    let appsError: string | undefined;
    if (account) {
      try {
        apps = await sync.listApps(account.id);
      } catch (err) {
        const apiError = toApiError(err);
        if (apiError.code === 'internal') requestLogger(res).error({ err }, 'listing apps failed');
        appsError = apiError.code === 'internal' ? 'The apps could not be listed.' : apiError.message;
      }
    }
    res.type('html').send(
      renderProjectPage({
        project,
        vars,
        accounts,
        account,
        apps,
        appsError,
        audit,
        destinations,
        migrations,
        csrfToken: getSession(res).csrfToken,
        oauthEnabled: deps.oauthEnabled,
        flash: takeFlash(req, res, deps.secureCookies),
      }),
    );
  });

  const destinationsPath = (req: Request) => `${projectPath(req)}#destinations`;

  // Adding a webhook answers a page with its secret (shown once), not a redirect: a secret never goes in a cookie.
  router.post('/projects/:id/destinations', async (req, res, next) => {
    try {
      const { id } = parseForm(projectParams, req.params, labels.project);
      const form = parseForm(webhookForm, req.body, labels.webhook);
      const project = await sync.getProject(id);
      const created = await deps.destinations.create({
        projectId: id,
        kind: 'webhook',
        vars: form.vars,
        body: { url: form.url, includeValue: form.includeValue === 'true' },
      });
      res.type('html').send(
        renderDestinationCreatedPage({
          projectId: id,
          projectName: project.name,
          url: form.url,
          secret: created.shownOnce.secret ?? '',
        }),
      );
    } catch (err) {
      if (err instanceof FormError || err instanceof SyncError) {
        flash(res, 'error', err instanceof FormError ? err.message : toApiError(err).message);
        res.redirect(303, destinationsPath(req));
        return;
      }
      next(err);
    }
  });

  router.post(
    '/projects/:id/destinations/:destinationId/test',
    action(async (req, res) => {
      const { id, destinationId } = parseForm(destinationParams, req.params, labels.destination);
      await deps.destinations.sendTest(id, destinationId);
      flash(res, 'ok', 'Test event queued: it shows in the delivery log.');
      return `/projects/${id}#destinations`;
    }, destinationsPath),
  );

  router.post(
    '/projects/:id/destinations/:destinationId/delete',
    action(async (req, res) => {
      const { id, destinationId } = parseForm(destinationParams, req.params, labels.destination);
      await deps.destinations.remove(id, destinationId);
      flash(res, 'ok', 'Destination removed.');
      return `/projects/${id}#destinations`;
    }, destinationsPath),
  );

  router.post(
    '/projects/:id/deliveries/:deliveryId/redeliver',
    action(async (req, res) => {
      const { id, deliveryId } = parseForm(deliveryParams, req.params, labels.destination);
      await deps.destinations.redeliver({ projectId: id, deliveryId });
      flash(res, 'ok', 'Delivery queued again.');
      return `/projects/${id}#destinations`;
    }, destinationsPath),
  );

  router.post(
    '/projects/:id/deliveries/redeliver',
    action(async (req, res) => {
      const { id } = parseForm(projectParams, req.params, labels.project);
      const form = parseForm(redeliverForm, req.body, labels.redeliver);
      const { deliveryIds } = await deps.destinations.redeliver({
        projectId: id,
        failedSince: new Date(Date.now() - form.hours * 3600_000),
        ...(form.destinationId ? { destinationId: form.destinationId } : {}),
      });
      flash(
        res,
        'ok',
        `${deliveryIds.length} failed ${deliveryIds.length === 1 ? 'delivery' : 'deliveries'} queued again.`,
      );
      return `/projects/${id}#destinations`;
    }, destinationsPath),
  );

  router.get('/projects/:id/migrations/:migrationId', async (req, res) => {
    const params = migrationParams.safeParse(req.params);
    if (!params.success) throw new SyncError('not_found', 'no such migration');
    const project = await sync.getProject(params.data.id);
    const migration = await deps.migrations.get(params.data.id, params.data.migrationId);
    res.type('html').send(
      renderMigrationPage({
        project,
        migration,
        csrfToken: getSession(res).csrfToken,
        flash: takeFlash(req, res, deps.secureCookies),
      }),
    );
  });

  router.post(
    '/projects/:id/migrations',
    action(
      async (req, res) => {
        const id = pageProjectId(req);
        const form = parseForm(migrationForm, req.body, labels.migration);
        const migration = await deps.migrations.start({ projectId: id, ...form });
        flash(res, 'ok', 'Migration queued.');
        return `/projects/${id}/migrations/${migration.id}`;
      },
      (req) => `${projectPath(req)}#migrations`,
    ),
  );

  router.post(
    '/projects/:id/migrations/:migrationId/cancel',
    action(
      async (req, res) => {
        const params = migrationParams.safeParse(req.params);
        if (!params.success) throw new SyncError('not_found', 'no such migration');
        await deps.migrations.cancel(params.data.id, params.data.migrationId);
        flash(res, 'ok', 'Cancelling: the target is being put back as it was.');
        return `/projects/${params.data.id}/migrations/${params.data.migrationId}`;
      },
      (req) => {
        // Back to the migration's page only when both ids are well-formed (never a `//…` off-site path).
        const params = migrationParams.safeParse(req.params);
        return params.success ? `/projects/${params.data.id}/migrations/${params.data.migrationId}` : projectPath(req);
      },
    ),
  );

  router.post(
    '/projects/:id/env',
    action(async (req, res) => {
      const { id } = parseForm(projectParams, req.params, labels.project);
      const form = parseForm(envForm, req.body, labels.env);
      const { changed } = await sync.setEnvVar(id, form.name, form.value);
      flash(res, 'ok', changed ? `${form.name} saved.` : `${form.name} already had that value.`);
      return `/projects/${id}#env`;
    }, projectPath),
  );

  /** Back to the app picker of the account the form named, so a refused enable can be tried again at once. */
  const pickerPath = (req: Request) => {
    const accountId = (req.body as { accountId?: unknown } | undefined)?.accountId;
    const account = typeof accountId === 'string' && uuid.safeParse(accountId).success ? `?account=${accountId}` : '';
    return `${projectPath(req)}${account}#repick`;
  };

  router.post(
    '/projects/:id/sync',
    action(async (req, res) => {
      const { id } = parseForm(projectParams, req.params, labels.project);
      const form = parseForm(enableForm, req.body, labels.enable);
      // Picking an app again keeps the other mappings (set through the API); the form sets where DATABASE_URL goes.
      const current = await sync.getSyncStatus(id);
      const databaseUrl = current.mappings.DATABASE_URL;
      const status = await sync.enableSync({
        projectId: id,
        accountId: form.accountId,
        app: form.app,
        mappings: {
          ...current.mappings,
          DATABASE_URL:
            databaseUrl === undefined || typeof databaseUrl === 'string'
              ? form.target
              : { ...databaseUrl, to: form.target },
        },
      });
      const release = status.lastReleaseVersion === null ? '' : ` at release v${status.lastReleaseVersion}`;
      const ok = status.state === 'active';
      flash(
        res,
        ok ? 'ok' : 'error',
        ok
          ? `Sync enabled for ${status.app?.name ?? form.app}: ${form.target} is up to date${release}.`
          : `Sync enabled for ${status.app?.name ?? form.app}, but: ${status.lastError ?? status.state}`,
      );
      return ok ? `/projects/${id}#sync` : pickerPath(req);
    }, pickerPath),
  );

  router.post(
    '/projects/:id/sync/reconcile',
    action(
      async (req, res) => {
        const { id } = parseForm(projectParams, req.params, labels.project);
        const linkId = await sync.linkIdForReconcile(id);
        await enqueueReconcile(deps.producer, { linkId, reason: 'manual' });
        flash(res, 'ok', 'Check queued: the worker compares the app with Heroku now.');
        return `/projects/${id}#sync`;
      },
      (req) => `${projectPath(req)}#sync`,
    ),
  );

  router.get('/projects/:id/sync/opt-out', async (req, res) => {
    const id = pageProjectId(req);
    const project = await sync.getProject(id);
    if (!project.sync.enabled) {
      flash(res, 'error', 'The sync is already off.');
      res.redirect(303, `/projects/${id}#sync`);
      return;
    }
    res.type('html').send(renderOptOutPage({ project, csrfToken: getSession(res).csrfToken }));
  });

  router.post(
    '/projects/:id/sync/disable',
    action(
      async (req, res) => {
        const { id } = parseForm(projectParams, req.params, labels.project);
        // Opting out takes the confirmation step: a form without it goes to that step.
        if (optOutForm.parse(req.body).confirm !== 'yes') return `/projects/${id}/sync/opt-out`;
        const { webhookDeleted } = await sync.disableSync(id);
        flash(
          res,
          'ok',
          webhookDeleted
            ? 'The sync is off and its Heroku webhook deleted. The env vars keep their values.'
            : 'The sync is off. Heroku did not answer, so its webhook will be deleted later. The env vars keep their values.',
        );
        return `/projects/${id}#sync`;
      },
      (req) => `${projectPath(req)}#sync`,
    ),
  );

  router.get('/projects/:id/events', async (req, res) => {
    const id = pageProjectId(req);
    await sync.getProject(id); // 404 for a project that does not exist
    if (!deps.projectEvents) {
      res.status(404).type('text/plain').send('live updates are off\n');
      return;
    }
    streamProjectEvents({ req, res, events: deps.projectEvents, projectId: id });
  });

  router.get('/api-reference', (_req, res) => {
    res.type('html').send(renderApiReferencePage({ document: deps.apiDocument }));
  });
  router.get('/api-reference/openapi.json', (_req, res) => {
    res.json(deps.apiDocument);
  });

  router.use((_req, res) => {
    res
      .status(404)
      .type('html')
      .send(renderErrorPage({ title: 'Not found', message: 'There is no page here.' }));
  });
  router.use(consoleErrorHandler);
  return router;
}
