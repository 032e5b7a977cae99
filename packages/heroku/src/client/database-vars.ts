import type { AddOn, AddOnAttachment } from './resources.js';

/** The config var Heroku's primary database lives in. */
export const PRIMARY_DATABASE_VAR = 'DATABASE_URL';

export interface DatabaseConfigVar {
  /** e.g. `DATABASE_URL`, `HEROKU_POSTGRESQL_PINK_URL` */
  configVar: string;
  attachment: string;
  addon: string;
  plan: string | undefined;
  primary: boolean;
}

function isHerokuPostgres(addon: AddOn): boolean {
  const service = addon.addon_service.name ?? addon.plan?.name?.split(':')[0];
  return service === 'heroku-postgresql';
}

/**
 * Which config vars hold a Heroku Postgres database, by the Heroku CLI's rule: each attachment of a
 * `heroku-postgresql` add-on exposes `<attachment name>_URL`. `DATABASE_URL` (the `DATABASE` attachment)
 * is the primary and comes first; the others follow by name.
 */
export function findDatabaseConfigVars(options: {
  addons: readonly AddOn[];
  attachments: readonly AddOnAttachment[];
}): DatabaseConfigVar[] {
  const postgres = new Map(options.addons.filter(isHerokuPostgres).map((addon) => [addon.id, addon]));
  const found: DatabaseConfigVar[] = [];
  for (const attachment of options.attachments) {
    const addon = postgres.get(attachment.addon.id);
    if (!addon) continue;
    const configVar = `${attachment.name.toUpperCase()}_URL`;
    found.push({
      configVar,
      attachment: attachment.name,
      addon: addon.name,
      plan: addon.plan?.name,
      primary: configVar === PRIMARY_DATABASE_VAR,
    });
  }
  return found.sort((a, b) => Number(b.primary) - Number(a.primary) || a.configVar.localeCompare(b.configVar));
}
