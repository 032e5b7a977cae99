import type { z } from 'zod';
import { HerokuApiError } from './errors.js';
import { rangeHeader } from './range.js';
import {
  accountSchema,
  appSchema,
  appWebhookSchema,
  configVarsSchema,
  releaseSchema,
  type Account,
  type App,
  type AppWebhook,
  type ConfigVars,
  type Release,
  type WebhookCreate,
  type WebhookUpdate,
} from './resources.js';
import { HerokuTransport, type CallOptions, type RawResponse, type TransportOptions } from './transport.js';

const MAX_PAGES = 1000;

const seg = (value: string | number) => encodeURIComponent(String(value));

/**
 * A typed client for the subset of the Heroku Platform API the service uses. One instance per credential;
 * instances share a keep-alive pool. Retries, timeouts and token refresh live in the transport.
 */
export class HerokuClient {
  private readonly transport: HerokuTransport;

  constructor(options: TransportOptions) {
    this.transport = new HerokuTransport(options);
  }

  private async read<S extends z.ZodType>(
    call: CallOptions,
    schema: S,
  ): Promise<{ value: z.infer<S>; raw: RawResponse }> {
    const raw = await this.transport.call(call);
    const parsed = schema.safeParse(raw.json);
    if (!parsed.success) {
      throw new HerokuApiError({
        kind: 'unexpected',
        method: call.method,
        route: call.route,
        status: raw.status,
        herokuMessage: `answer does not have the expected shape (${parsed.error.issues[0]?.path.join('.') ?? '?'})`,
      });
    }
    return { value: parsed.data, raw };
  }

  /** Every page of a ranged list, following `Next-Range` until Heroku answers 200. */
  private async readAll<S extends z.ZodType>(
    call: Omit<CallOptions, 'method'>,
    item: S,
    firstRange: string,
  ): Promise<z.infer<S>[]> {
    const items: z.infer<S>[] = [];
    let range: string | undefined = firstRange;
    for (let page = 0; range !== undefined; page += 1) {
      if (page >= MAX_PAGES) throw new Error(`more than ${MAX_PAGES} pages from ${call.route}`);
      const { value, raw } = await this.read(
        { ...call, method: 'GET', headers: { ...call.headers, range } },
        item.array(),
      );
      items.push(...(value as z.infer<S>[]));
      range = HerokuTransport.nextRange(raw);
    }
    return items;
  }

  async getAccount(): Promise<Account> {
    return (await this.read({ method: 'GET', path: '/account', route: '/account' }, accountSchema)).value;
  }

  /** Every app the account can see, all pages. */
  async listApps(): Promise<App[]> {
    return this.readAll({ path: '/apps', route: '/apps' }, appSchema, rangeHeader({ field: 'id', max: 1000 }));
  }

  async getApp(app: string): Promise<App> {
    return (await this.read({ method: 'GET', path: `/apps/${seg(app)}`, route: '/apps/{app}' }, appSchema)).value;
  }

  /** The app's current config vars (`GET /apps/{app}/config-vars`). */
  async getConfigVars(app: string): Promise<ConfigVars> {
    const call = { method: 'GET', path: `/apps/${seg(app)}/config-vars`, route: '/apps/{app}/config-vars' } as const;
    return (await this.read(call, configVarsSchema)).value;
  }

  /** Puts the app in or out of maintenance mode (`PATCH /apps/{app}`). */
  async setMaintenance(app: string, maintenance: boolean): Promise<App> {
    const call = {
      method: 'PATCH',
      path: `/apps/${seg(app)}`,
      route: '/apps/{app}',
      body: { maintenance },
    } as const;
    return (await this.read(call, appSchema)).value;
  }

  /** The app's config as of release `version`: what a release event refers to. */
  async getReleaseConfigVars(app: string, version: number): Promise<ConfigVars> {
    const call = {
      method: 'GET',
      path: `/apps/${seg(app)}/releases/${seg(version)}/config-vars`,
      route: '/apps/{app}/releases/{version}/config-vars',
    } as const;
    return (await this.read(call, configVarsSchema)).value;
  }

  /** The newest releases first, one page (`Range: version ..; order=desc, max=N`). */
  async listRecentReleases(app: string, max = 1): Promise<Release[]> {
    const call = {
      method: 'GET',
      path: `/apps/${seg(app)}/releases`,
      route: '/apps/{app}/releases',
      headers: { range: rangeHeader({ field: 'version', order: 'desc', max }) },
    } as const;
    return (await this.read(call, releaseSchema.array())).value;
  }

  /**
   * Creates a webhook. Without `secret`, Heroku generates one and returns it once, in the
   * `Heroku-Webhook-Secret` header; it is passed back here as `generatedSecret`.
   */
  async createWebhook(app: string, body: WebhookCreate): Promise<{ webhook: AppWebhook; generatedSecret?: string }> {
    const call = { method: 'POST', path: `/apps/${seg(app)}/webhooks`, route: '/apps/{app}/webhooks', body } as const;
    const { value, raw } = await this.read(call, appWebhookSchema);
    const secret = raw.headers['heroku-webhook-secret'];
    const generatedSecret = Array.isArray(secret) ? secret[0] : secret;
    return generatedSecret === undefined ? { webhook: value } : { webhook: value, generatedSecret };
  }

  async listWebhooks(app: string): Promise<AppWebhook[]> {
    return this.readAll(
      { path: `/apps/${seg(app)}/webhooks`, route: '/apps/{app}/webhooks' },
      appWebhookSchema,
      rangeHeader({ field: 'id', max: 1000 }),
    );
  }

  async getWebhook(app: string, webhookId: string): Promise<AppWebhook> {
    const call = {
      method: 'GET',
      path: `/apps/${seg(app)}/webhooks/${seg(webhookId)}`,
      route: '/apps/{app}/webhooks/{id}',
    } as const;
    return (await this.read(call, appWebhookSchema)).value;
  }

  async updateWebhook(app: string, webhookId: string, body: WebhookUpdate): Promise<AppWebhook> {
    const call = {
      method: 'PATCH',
      path: `/apps/${seg(app)}/webhooks/${seg(webhookId)}`,
      route: '/apps/{app}/webhooks/{id}',
      body,
    } as const;
    return (await this.read(call, appWebhookSchema)).value;
  }

  async deleteWebhook(app: string, webhookId: string): Promise<void> {
    await this.transport.call({
      method: 'DELETE',
      path: `/apps/${seg(app)}/webhooks/${seg(webhookId)}`,
      route: '/apps/{app}/webhooks/{id}',
    });
  }
}
