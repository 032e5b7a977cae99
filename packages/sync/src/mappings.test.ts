import { describe, expect, it } from 'vitest';
import { formatMappings, mapConfig, parseMappings } from './mappings.js';

describe('parseMappings', () => {
  it('defaults to DATABASE_URL → HASURA_GRAPHQL_DATABASE_URL', () => {
    expect(parseMappings(undefined)).toEqual([
      { from: 'DATABASE_URL', to: 'HASURA_GRAPHQL_DATABASE_URL', transforms: [] },
    ]);
  });

  it('accepts any config var to any env var, with transforms', () => {
    const mappings = parseMappings({
      REDIS_URL: 'CACHE_URL',
      DATABASE_URL: { to: 'PG_URL', transforms: ['postgresql-scheme', 'sslmode-require'] },
    });
    expect(mappings).toEqual([
      { from: 'REDIS_URL', to: 'CACHE_URL', transforms: [] },
      { from: 'DATABASE_URL', to: 'PG_URL', transforms: ['postgresql-scheme', 'sslmode-require'] },
    ]);
    expect(formatMappings(mappings)).toEqual({
      REDIS_URL: 'CACHE_URL',
      DATABASE_URL: { to: 'PG_URL', transforms: ['postgresql-scheme', 'sslmode-require'] },
    });
  });

  it.each([
    [{}, /at least one/],
    [{ 'BAD NAME': 'X' }, /config var name/],
    [{ A: 'X', B: 'X' }, /same env var/],
    [{ A: { to: 'X', transforms: ['rot13'] } }, /mappings/],
    [['DATABASE_URL'], /mappings/],
    ['DATABASE_URL', /mappings/],
  ])('refuses %j', (input, message) => {
    expect(() => parseMappings(input)).toThrow(message);
  });
});

describe('mapConfig', () => {
  const config = {
    DATABASE_URL: 'postgres://u:p@db.example:5432/d',
    REDIS_URL: 'redis://:r@cache.example:6379',
  };

  it('maps config vars through their transforms', () => {
    const { values, missing } = mapConfig({
      mappings: [
        { from: 'DATABASE_URL', to: 'A', transforms: ['postgresql-scheme', 'sslmode-require'] },
        { from: 'REDIS_URL', to: 'B', transforms: [] },
      ],
      config,
    });
    expect(Object.fromEntries(values)).toEqual({
      A: 'postgresql://u:p@db.example:5432/d?sslmode=require',
      B: 'redis://:r@cache.example:6379',
    });
    expect(missing).toEqual([]);
  });

  it('keeps an existing sslmode and query string', () => {
    const { values } = mapConfig({
      mappings: [{ from: 'X', to: 'Y', transforms: ['sslmode-require'] }],
      config: { X: 'postgres://h/d?application_name=a' },
    });
    expect(values.get('Y')).toBe('postgres://h/d?application_name=a&sslmode=require');
    const kept = mapConfig({
      mappings: [{ from: 'X', to: 'Y', transforms: ['sslmode-require'] }],
      config: { X: 'postgres://h/d?sslmode=verify-full' },
    });
    expect(kept.values.get('Y')).toBe('postgres://h/d?sslmode=verify-full');
  });

  it('reports config vars the release lacks', () => {
    const { values, missing } = mapConfig({ mappings: [{ from: 'MONGODB_URI', to: 'M', transforms: [] }], config });
    expect(values.size).toBe(0);
    expect(missing).toEqual(['MONGODB_URI']);
  });
});
