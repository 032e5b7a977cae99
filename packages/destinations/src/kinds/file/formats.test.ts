import { describe, expect, it } from 'vitest';
import { dotenvLine, renderFile } from './formats.js';

const URL_A = 'postgres://u:newpass@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1?sslmode=require';

describe('file formats', () => {
  it('raw is the value and a newline, whatever was there', () => {
    expect(renderFile({ format: 'raw', name: 'X', value: URL_A, existing: 'old\n' })).toBe(`${URL_A}\n`);
  });

  it('dotenv rewrites only this variable and keeps every other line, comment and blank line', () => {
    const existing = [
      '# database settings',
      'export HASURA_GRAPHQL_DATABASE_URL=postgres://u:old@h:5432/d # old',
      '',
      'REDIS_URL="redis://h:6379"',
      '  # indented comment',
      'HASURA_GRAPHQL_DATABASE_URL_2=keep-me',
      '',
    ].join('\n');
    const out = renderFile({ format: 'dotenv', name: 'HASURA_GRAPHQL_DATABASE_URL', value: URL_A, existing });
    expect(out).toBe(
      existing.replace(
        'export HASURA_GRAPHQL_DATABASE_URL=postgres://u:old@h:5432/d # old',
        `HASURA_GRAPHQL_DATABASE_URL=${URL_A}`,
      ),
    );
  });

  it('dotenv replaces a multi-line quoted value whole, drops later duplicates, and appends a missing variable', () => {
    const existing = 'A=1\nKEY="line one\nline two"\nB=2\nKEY=again\n# end\n';
    expect(renderFile({ format: 'dotenv', name: 'KEY', value: 'v', existing })).toBe('A=1\nKEY=v\nB=2\n# end\n');
    expect(renderFile({ format: 'dotenv', name: 'NEW', value: 'v', existing: 'A=1\n# c' })).toBe('A=1\n# c\nNEW=v\n');
    expect(renderFile({ format: 'dotenv', name: 'NEW', value: 'v', existing: undefined })).toBe('NEW=v\n');
  });

  it('dotenv quotes values that need it', () => {
    expect(dotenvLine('X', URL_A)).toBe(`X=${URL_A}`);
    expect(dotenvLine('X', 'pass word#"\\\n$')).toBe('X="pass word#\\"\\\\\\n$"');
    expect(dotenvLine('X', '')).toBe('X=');
  });

  it('json sets this key and keeps the others; an unreadable file becomes an object', () => {
    const existing = JSON.stringify({ OTHER: 'o', X: 'old' });
    expect(JSON.parse(renderFile({ format: 'json', name: 'X', value: URL_A, existing }))).toEqual({
      OTHER: 'o',
      X: URL_A,
    });
    expect(JSON.parse(renderFile({ format: 'json', name: 'X', value: 'v', existing: '[1]' }))).toEqual({ X: 'v' });
    expect(JSON.parse(renderFile({ format: 'json', name: 'X', value: 'v', existing: 'not json' }))).toEqual({ X: 'v' });
  });
});
