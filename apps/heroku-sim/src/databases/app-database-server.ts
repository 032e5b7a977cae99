import type { Logger } from '@hds/core';
import postgres from 'postgres';
import { newPassword } from '../state/databases.js';
import type { DatabaseCredentials, PostgresAddon } from '../state/model.js';
import { randomAlnum } from '../support/ids.js';
import { SimStartupError } from '../support/startup-error.js';
import { scramVerifier } from './scram-verifier.js';
import { SEED_COUNTS_SQL, SEED_SCHEMA_SQL, SEED_TABLES, seedPlan, seedRowsSql, type SeedTable } from './seed-schema.js';

export interface AppDatabaseServerOptions {
  /** `SIM_POSTGRES_URL`: a role with CREATEDB and CREATEROLE (or a superuser) on the server. */
  adminUrl: string;
  /** What the apps' `DATABASE_URL`s name (`SIM_POSTGRES_HOST`, `SIM_POSTGRES_PORT`); default `adminUrl`'s. */
  host?: string;
  port?: number;
  /** Every role and database the sim makes is named `<prefix>_…`; the sim owns all such names on the server. */
  prefix: string;
  logger: Logger;
}

export interface SeedResult {
  tables: Array<{ name: SeedTable; rows: number }>;
}

/** Role and database names are made here from `[a-z0-9_]`; quoting them is then all the escaping they need. */
function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a name heroku-sim makes: ${name}`);
  return `"${name}"`;
}

const VERIFIER = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;
function passwordLiteral(password: string): string {
  const verifier = scramVerifier(password);
  if (!VERIFIER.test(verifier)) throw new Error('unexpected SCRAM verifier');
  return `'${verifier}'`;
}

/** Where the server is, for messages: never the password. */
function describeServer(url: URL): string {
  return `${url.hostname}:${url.port || '5432'}`;
}

function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? `${e.code} ` : '';
  return `${code}${typeof e.message === 'string' ? e.message : String(err)}`;
}

const connect = (url: string, max = 1) =>
  postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 30,
    connection: { application_name: 'heroku-sim' },
  });

/**
 * The Postgres server behind the apps' Heroku Postgres add-ons (`SIM_POSTGRES_URL`): each add-on is a database
 * of its own, owned by a login role of its own with a long random password; `CONNECT` is revoked from `PUBLIC`, so
 * one app's role cannot reach another app's database. Roles are never superusers. Passwords are sent as SCRAM
 * verifiers, never in clear.
 */
export class AppDatabaseServer {
  private constructor(
    private readonly options: AppDatabaseServerOptions,
    private readonly sql: postgres.Sql,
    private readonly adminUrl: URL,
    /** Whether the admin role is a superuser; otherwise it takes membership of each role it makes. */
    private readonly superuser: boolean,
  ) {}

  /**
   * Connects with `SIM_POSTGRES_URL` and checks the role may create databases and roles. A refused connection or
   * missing privileges are a `SimStartupError` naming the variable.
   */
  static async open(options: AppDatabaseServerOptions): Promise<AppDatabaseServer> {
    if (!/^[a-z][a-z0-9_]{0,29}$/.test(options.prefix)) {
      throw new SimStartupError('SIM_POSTGRES_PREFIX', 'must be lowercase letters, digits and _ (at most 30)');
    }
    const adminUrl = new URL(options.adminUrl);
    const sql = connect(options.adminUrl, 4);
    try {
      const [role] = await sql<{ superuser: boolean; createdb: boolean; createrole: boolean }[]>`
        select rolsuper as superuser, rolcreatedb as createdb, rolcreaterole as createrole
          from pg_roles where rolname = current_user`;
      if (!role?.superuser && !(role?.createdb && role.createrole)) {
        throw new SimStartupError(
          'SIM_POSTGRES_URL',
          `the role ${adminUrl.username || '(default)'} on ${describeServer(adminUrl)} needs CREATEDB and CREATEROLE to make the apps' databases`,
        );
      }
      return new AppDatabaseServer(options, sql, adminUrl, role.superuser);
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      if (err instanceof SimStartupError) throw err;
      throw new SimStartupError(
        'SIM_POSTGRES_URL',
        `cannot connect to the Postgres server at ${describeServer(adminUrl)} for the apps' databases (${errorText(err)})`,
      );
    }
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** A new database and its owner role → the credentials its `DATABASE_URL` names. */
  async provision(): Promise<DatabaseCredentials> {
    const { prefix } = this.options;
    const user = `${prefix}_u${randomAlnum(12)}`;
    const database = `${prefix}_d${randomAlnum(12)}`;
    const password = newPassword();
    await this.createRole(user, password);
    await this.createDatabase(database, user);
    return {
      user,
      password,
      host: this.options.host ?? this.adminUrl.hostname,
      port: this.options.port ?? Number(this.adminUrl.port || 5432),
      database,
    };
  }

  /**
   * Sets the role's new password, then ends every session it has open and waits until they are gone (as Heroku
   * resets connections on a rotation of the default credential). Returns how many sessions ended.
   */
  async setPassword(input: { user: string; password: string }): Promise<{ terminated: number }> {
    await this.sql.unsafe(`alter role ${ident(input.user)} password ${passwordLiteral(input.password)}`);
    const [row] = await this.sql<{ terminated: number }[]>`
      select count(*) filter (where pg_terminate_backend(pid, 5000))::int as terminated
        from pg_stat_activity where usename = ${input.user} and pid <> pg_backend_pid()`;
    return { terminated: row?.terminated ?? 0 };
  }

  /** Drops the database (ending its sessions) and its role. */
  async drop(input: { user: string; database: string }): Promise<void> {
    await this.sql.unsafe(`drop database if exists ${ident(input.database)} with (force)`);
    await this.sql.unsafe(`drop role if exists ${ident(input.user)}`);
  }

  /** Whether these credentials are of a database this server holds for the sim (made with this prefix). */
  owns(credentials: Pick<DatabaseCredentials, 'user' | 'database'>): boolean {
    const mine = (name: string) => name.startsWith(`${this.options.prefix}_`);
    return mine(credentials.user) && mine(credentials.database);
  }

  /**
   * Makes the server agree with the kept state at start-up: each known add-on's role gets its kept password again
   * (a sim killed between setting a password and storing it would otherwise leave a URL that does not connect); a
   * known add-on whose role or database is missing (the cluster was reset) gets them again, empty; roles and
   * databases with the prefix that no add-on names (left by a sim that kept no state) are dropped.
   */
  async reconcile(addons: readonly PostgresAddon[]): Promise<{ recreated: number; dropped: number }> {
    const like = `${this.options.prefix}\\_%`;
    const roles = new Set(
      (await this.sql<{ name: string }[]>`select rolname as name from pg_roles where rolname like ${like}`).map(
        (r) => r.name,
      ),
    );
    const databases = new Set(
      (await this.sql<{ name: string }[]>`select datname as name from pg_database where datname like ${like}`).map(
        (r) => r.name,
      ),
    );
    const known = addons.filter((a) => this.owns(a));
    let recreated = 0;
    for (const addon of known) {
      if (roles.has(addon.user)) {
        await this.sql.unsafe(`alter role ${ident(addon.user)} password ${passwordLiteral(addon.password)}`);
      }
      if (roles.has(addon.user) && databases.has(addon.database)) continue;
      if (!roles.has(addon.user)) await this.createRole(addon.user, addon.password);
      if (!databases.has(addon.database)) await this.createDatabase(addon.database, addon.user);
      recreated += 1;
    }
    const keepDatabases = new Set(known.map((a) => a.database));
    const keepRoles = new Set(known.map((a) => a.user));
    let dropped = 0;
    for (const name of databases) {
      if (keepDatabases.has(name)) continue;
      await this.sql.unsafe(`drop database if exists ${ident(name)} with (force)`);
      dropped += 1;
    }
    for (const name of roles) {
      if (keepRoles.has(name)) continue;
      await this.sql.unsafe(`drop role if exists ${ident(name)}`);
      dropped += 1;
    }
    return { recreated, dropped };
  }

  /**
   * Proves the server checks passwords for the roles the sim makes: a probe role with a wrong password must be
   * refused (28P01) and with its own accepted. A server that trusts the connection (`pg_hba.conf`: `trust`) would
   * let a rotated-away URL connect, so that is a `SimStartupError`.
   */
  async provePasswordsChecked(): Promise<void> {
    const user = `${this.options.prefix}_probe_${randomAlnum(8)}`;
    const password = newPassword();
    const server = describeServer(this.adminUrl);
    await this.createRole(user, password);
    const attempt = async (withPassword: string): Promise<{ ok: true } | { ok: false; code: string; text: string }> => {
      const url = new URL(this.adminUrl.href);
      url.username = user;
      url.password = withPassword;
      const probe = connect(url.href);
      try {
        await probe`select 1`;
        return { ok: true };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return { ok: false, code: typeof code === 'string' ? code : '', text: errorText(err) };
      } finally {
        await probe.end({ timeout: 1 }).catch(() => {});
      }
    };
    try {
      const wrong = await attempt(newPassword());
      if (wrong.ok) {
        throw new SimStartupError(
          'SIM_POSTGRES_URL',
          `the Postgres server at ${server} accepted a wrong password for a login role, so it does not check ` +
            `passwords (pg_hba.conf: trust) and a rotated-away DATABASE_URL would still connect. Give heroku-sim a ` +
            `server with password authentication (scram-sha-256 or md5): \`npm start\` and the tests start one.`,
        );
      }
      if (wrong.code !== '28P01') {
        throw new SimStartupError(
          'SIM_POSTGRES_URL',
          `the Postgres server at ${server} did not refuse a wrong password as password authentication does (28P01): ${wrong.text}`,
        );
      }
      const right = await attempt(password);
      // Authenticated: a missing database or CONNECT privilege is checked after the password.
      if (!right.ok && right.code !== '3D000' && right.code !== '42501') {
        throw new SimStartupError(
          'SIM_POSTGRES_URL',
          `the Postgres server at ${server} refused a login role with its right password: ${right.text}`,
        );
      }
    } finally {
      await this.sql.unsafe(`drop role if exists ${ident(user)}`);
    }
  }

  /** Fills the add-on's database with the seed schema and about `rows` more rows, as its own role. */
  async seed(input: { credentials: DatabaseCredentials; rows: number }): Promise<SeedResult> {
    const url = new URL(this.adminUrl.href);
    url.username = input.credentials.user;
    url.password = input.credentials.password;
    url.pathname = `/${input.credentials.database}`;
    const sql = connect(url.href);
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(SEED_SCHEMA_SQL);
        await tx.unsafe(seedRowsSql(seedPlan(input.rows)));
      });
      const counts = await sql.unsafe<{ name: SeedTable; rows: number }[]>(SEED_COUNTS_SQL);
      const order = (name: SeedTable) => SEED_TABLES.indexOf(name);
      return {
        tables: [...counts].sort((a, b) => order(a.name) - order(b.name)).map(({ name, rows }) => ({ name, rows })),
      };
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  /** Resolves when the server answers (the sim's `/readyz`). */
  async ping(): Promise<void> {
    await this.sql`select 1`;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  private async createRole(user: string, password: string): Promise<void> {
    await this.sql.unsafe(
      `create role ${ident(user)} login password ${passwordLiteral(password)} ` +
        'nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
    );
    // A role with CREATEROLE but no superuser may only give a database to (and end the sessions of) roles it is a
    // member of.
    if (!this.superuser) await this.sql.unsafe(`grant ${ident(user)} to current_user`);
  }

  private async createDatabase(database: string, owner: string): Promise<void> {
    await this.sql.unsafe(`create database ${ident(database)} owner ${ident(owner)}`);
    await this.sql.unsafe(`revoke connect, temporary on database ${ident(database)} from public`);
  }
}
