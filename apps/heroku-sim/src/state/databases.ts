import { randomInt } from 'node:crypto';
import { newId, randomAlnum, randomHex } from '../support/ids.js';
import type { Actor, DatabaseCredentials, PostgresAddon } from './model.js';

export const POSTGRES_SERVICE = { id: '6c67493d-8fc2-4cd4-9161-4f1ec11cbe69', name: 'heroku-postgresql' } as const;
export const POSTGRES_PLAN = { id: '062a1cc7-f79f-404c-9f91-135f70175577', name: 'heroku-postgresql:essential-0' };

/** The system user Heroku Postgres acts as when it changes an app's config (rotation, maintenance, failover). */
export const POSTGRES_ACTOR: Actor = {
  id: 'f87b5e7e-4631-46cc-9912-9fcdbbb6c985',
  email: 'heroku-postgresql@addons.heroku.com',
};

/** The attachment every app's primary database has; it provides `DATABASE_URL`. */
export const PRIMARY_ATTACHMENT = 'DATABASE';

/** Colors Heroku names additional databases with: `HEROKU_POSTGRESQL_<COLOR>`. */
export const DATABASE_COLORS = [
  'AMBER',
  'BLACK',
  'BLUE',
  'BRONZE',
  'BROWN',
  'CHARCOAL',
  'COBALT',
  'COPPER',
  'CRIMSON',
  'CYAN',
  'GOLD',
  'GRAY',
  'GREEN',
  'IVORY',
  'JADE',
  'MAROON',
  'NAVY',
  'OLIVE',
  'ONYX',
  'ORANGE',
  'PINK',
  'PURPLE',
  'RED',
  'ROSE',
  'SILVER',
  'TEAL',
  'WHITE',
  'YELLOW',
] as const;

const NAME_WORDS = ['concave', 'shaped', 'rigid', 'clear', 'fluffy', 'tapered', 'curly', 'angular', 'solid', 'deep'];

/** `postgresql-<word>-<5 digits>`, like Heroku's generated add-on names. */
function addonName(): string {
  return `postgresql-${NAME_WORDS[randomInt(NAME_WORDS.length)]}-${randomInt(10000, 99999)}`;
}

/** Credentials shaped like Heroku's, on a host that does not exist (the sim without real databases). */
export function unreachableDatabase(): DatabaseCredentials {
  return {
    user: `u${randomAlnum(13)}`,
    password: newPassword(),
    host: `c${randomAlnum(11)}.cluster-${randomAlnum(12)}.us-east-1.rds.amazonaws.com`,
    port: 5432,
    database: `d${randomAlnum(13)}`,
  };
}

/** A Heroku Postgres add-on for `credentials` (a real database's, or made up). */
export function createPostgresAddon(input: { now: number; credentials: DatabaseCredentials }): PostgresAddon {
  return {
    id: newId(),
    name: addonName(),
    service: POSTGRES_SERVICE.name,
    planName: POSTGRES_PLAN.name,
    providerId: `resource${randomInt(1_000_000, 9_999_999)}@heroku.com`,
    ...input.credentials,
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/** `p` and 64 hex digits, like Heroku's generated passwords. */
export function newPassword(): string {
  return `p${randomHex(32)}`;
}

export function databaseUrl(credentials: DatabaseCredentials): string {
  const { user, password, host, port, database } = credentials;
  return `postgres://${user}:${password}@${host}:${port}/${database}`;
}

/** The config var an attachment provides. */
export const attachmentVar = (attachmentName: string): string => `${attachmentName}_URL`;
