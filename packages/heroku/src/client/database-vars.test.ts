import { describe, expect, it } from 'vitest';
import { findDatabaseConfigVars } from './database-vars.js';

const pg = (id: string, plan = 'heroku-postgresql:essential-0') => ({
  id,
  name: `postgresql-${id}`,
  addon_service: { name: 'heroku-postgresql' },
  plan: { name: plan },
});
const attach = (name: string, addonId: string) => ({
  id: `att-${name}`,
  name,
  addon: { id: addonId, name: `x-${addonId}` },
});

describe('findDatabaseConfigVars', () => {
  it('names each Postgres attachment <NAME>_URL, the primary first', () => {
    const vars = findDatabaseConfigVars({
      addons: [
        pg('a'),
        pg('b', 'heroku-postgresql:standard-0'),
        { id: 'r', name: 'redis-r', addon_service: { name: 'heroku-redis' } },
      ],
      attachments: [
        attach('HEROKU_POSTGRESQL_PINK', 'b'),
        attach('REDIS', 'r'),
        attach('DATABASE', 'a'),
        attach('HEROKU_POSTGRESQL_AMBER', 'a'),
      ],
    });
    expect(vars.map((v) => v.configVar)).toEqual([
      'DATABASE_URL',
      'HEROKU_POSTGRESQL_AMBER_URL',
      'HEROKU_POSTGRESQL_PINK_URL',
    ]);
    expect(vars[0]).toMatchObject({ primary: true, addon: 'postgresql-a', plan: 'heroku-postgresql:essential-0' });
  });

  it('finds nothing on an app without Heroku Postgres', () => {
    expect(findDatabaseConfigVars({ addons: [], attachments: [attach('DATABASE', 'gone')] })).toEqual([]);
  });
});
