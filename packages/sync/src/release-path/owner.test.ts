// The release path's columns are written in this module only (see index.ts): a write of one of them anywhere else
// in the service's source, through drizzle's `.set({...})` or in SQL text, fails this test. Enable and disable
// reset them through the module's `releasePathReset` and `leaseCleared`, which name no column where they are used.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const ownDirectory = fileURLToPath(new URL('./', import.meta.url));

/** The columns only the release path writes, as drizzle names them and as SQL does. */
const COLUMNS = ['appliedVersion', 'appliedMappings', 'targetVersion', 'leaseOwner', 'leaseExpiresAt'];
const SQL_COLUMNS = COLUMNS.map((name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'test-support'].includes(entry.name) ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Each `.set({ ... })` of a drizzle update, up to its matching brace. */
function setObjects(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\.set\(\s*\{/g)) {
    let depth = 0;
    for (let i = match.index + match[0].length - 1; i < text.length; i += 1) {
      if (text[i] === '{') depth += 1;
      else if (text[i] === '}' && (depth -= 1) === 0) {
        found.push(text.slice(match.index, i + 1));
        break;
      }
    }
  }
  return found;
}

/** The release-path columns `text` writes: keys of a `.set({...})`, or `column =` in SQL text. */
function releasePathWrites(text: string): string[] {
  const writes = setObjects(text).flatMap((set) =>
    COLUMNS.filter((column) => new RegExp(`\\b${column}\\s*:`).test(set)),
  );
  const sql = SQL_COLUMNS.filter((column) => new RegExp(`\\b${column}\\s*=(?!=)`).test(text));
  return [...writes, ...sql];
}

describe('the release path has one owner', () => {
  it('finds a write of its columns in a drizzle update and in SQL text (so the scan below can fail)', () => {
    expect(releasePathWrites('db.update(herokuLinks).set({ state: "active", targetVersion: 0 })')).toEqual([
      'targetVersion',
    ]);
    expect(releasePathWrites('tx.update(l).set({ ...(x ? {} : { leaseOwner: null }), updatedAt: now })')).toEqual([
      'leaseOwner',
    ]);
    expect(releasePathWrites('sql`update heroku_links set applied_version = 3`')).toEqual(['applied_version']);
    // Reads are not writes.
    expect(releasePathWrites('db.select({ appliedVersion: herokuLinks.appliedVersion }).from(herokuLinks)')).toEqual(
      [],
    );
    expect(releasePathWrites('sql`select 1 where target_version >= 3 and applied_version == 2`')).toEqual([]);
  });

  it('nothing outside packages/sync/src/release-path writes them', () => {
    const roots = ['packages', 'apps'].flatMap((top) =>
      readdirSync(join(repo, top), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(repo, top, entry.name, 'src')),
    );
    const files = roots
      .flatMap((root) => {
        try {
          return sources(root);
        } catch {
          return [];
        }
      })
      .filter((file) => !file.startsWith(ownDirectory));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((file) =>
      releasePathWrites(readFileSync(file, 'utf8')).map((column) => `${relative(repo, file)}: ${column}`),
    );
    expect(offenders).toEqual([]);
  });
});
