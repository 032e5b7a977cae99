import type { SeedResult } from '../databases/app-database-server.js';
import { SEED_MAX_ROWS } from '../databases/seed-schema.js';
import type { SimContext } from '../sim-context.js';
import { newPassword } from '../state/databases.js';
import type { DatabaseCredentials } from '../state/model.js';
import { herokuErrors } from '../support/heroku-error.js';
import {
  createAppIn,
  forgetEverything,
  preloadAccount,
  releaseRotation,
  rotationTarget,
  type CreateAppControlInput,
  type RotateCredentialsInput,
} from './control-steps.js';
import type { SimAppCreated, SimPreload } from './controls.js';

/**
 * The controls that touch the apps' databases, awaited. With real databases (`SIM_POSTGRES_URL`) each database is
 * made, rotated or dropped on the server before the change shows in the API; without, they do what the
 * synchronous controls do. The `/_sim/` routes use these.
 */
export function createDatabaseControls(ctx: SimContext, input: { preload: SimPreload | undefined }) {
  const server = ctx.appDatabases;
  const dropAll = async (databases: readonly DatabaseCredentials[]) => {
    if (!server) return;
    const results = await Promise.allSettled(databases.filter((d) => server.owns(d)).map((d) => server.drop(d)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      throw new AggregateError(
        failed.map((f) => f.reason as unknown),
        `could not drop ${failed.length} database(s)`,
      );
    }
  };

  const databaseControls = {
    /** As `createApp`; with real databases, each of the app's databases and roles is made first. */
    async createAppAsync(appInput: CreateAppControlInput): Promise<SimAppCreated> {
      if (!server) return createAppIn(ctx, appInput);
      const { attachments } = ctx.store.checkNewApp({ ...appInput, ownerId: appInput.accountId });
      const databases: DatabaseCredentials[] = [];
      try {
        for (let i = 0; i < attachments.length; i += 1) databases.push(await server.provision());
        return createAppIn(ctx, { ...appInput, databases });
      } catch (err) {
        await dropAll(databases).catch((dropErr: unknown) =>
          ctx.logger.error({ err: dropErr }, 'could not drop the databases of an app that was not created'),
        );
        throw err;
      }
    },

    /** As `deleteApp`; with real databases, its databases and roles are dropped first. */
    async deleteAppAsync(appInput: { app: string }): Promise<void> {
      const app = ctx.store.requireApp(appInput.app);
      await dropAll(app.addons);
      ctx.store.deleteApp(app.id);
    },

    /**
     * As `rotateCredentials`; with real databases the role gets the new password and its open sessions are ended
     * before the config var changes and the release is made (rotations of one database run one at a time).
     */
    async rotateCredentialsAsync(rotation: RotateCredentialsInput): Promise<{ version: number; databaseUrl: string }> {
      const { addon } = rotationTarget(ctx, rotation);
      return ctx.serial.run(addon.id, async () => {
        const target = rotationTarget(ctx, rotation);
        const password = newPassword();
        if (server?.owns(target.addon)) {
          const { terminated } = await server.setPassword({ user: target.addon.user, password });
          ctx.logger.info({ app: target.app.name, attachment: target.attachment.name, terminated }, 'rotated');
        }
        return releaseRotation(ctx, {
          ...target,
          password,
          ...(rotation.releasePhase ? { releasePhase: rotation.releasePhase } : {}),
        });
      });
    },

    /** As `reset`; with real databases every app's databases and roles are dropped, the preload's made again. */
    async resetAsync(): Promise<void> {
      const databases = ctx.store.listApps().flatMap((app) => app.addons);
      forgetEverything(ctx);
      await dropAll(databases);
      await databaseControls.applyPreloadAsync();
    },

    /** The preloaded account and whichever of its apps do not exist yet. */
    async applyPreloadAsync(): Promise<void> {
      const preload = preloadAccount(ctx, input.preload);
      for (const name of preload?.missingApps ?? []) {
        await databaseControls.createAppAsync({ name, accountId: preload!.accountId });
      }
    },

    /**
     * Fills an app's database (default `DATABASE`) with the seed schema and about `rows` more rows, as the app's
     * role: for demos and the data migration. Needs real databases.
     */
    async seed(seedInput: { app: string; rows: number; database?: string }): Promise<SeedResult> {
      if (!Number.isSafeInteger(seedInput.rows) || seedInput.rows < 1 || seedInput.rows > SEED_MAX_ROWS) {
        throw herokuErrors.invalidParams(`rows must be a whole number from 1 to ${SEED_MAX_ROWS}.`);
      }
      const { addon } = rotationTarget(ctx, seedInput);
      if (!server?.owns(addon)) {
        throw herokuErrors.invalidParams(
          'This database is not a real one: start heroku-sim with SIM_POSTGRES_URL to seed databases.',
        );
      }
      return ctx.serial.run(addon.id, () =>
        server.seed({ credentials: rotationTarget(ctx, seedInput).addon, rows: seedInput.rows }),
      );
    },
  };
  return databaseControls;
}

export type SimDatabaseControls = ReturnType<typeof createDatabaseControls>;
