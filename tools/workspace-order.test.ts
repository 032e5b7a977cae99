// `npm run build` builds the workspaces in the order the root package.json lists them, and a package's build reads
// the built types of the packages it depends on: each workspace must come after its internal dependencies, or a
// fresh checkout's first build fails (issue 13's package once came before one it imports).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const root = join(import.meta.dirname, '..');
const read = (dir: string) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest;

describe('the root workspaces list', () => {
  it('lists every workspace after the workspaces its build depends on', () => {
    const dirs = read('.').workspaces ?? [];
    const manifests = dirs.map(read);
    const position = new Map(manifests.map((m, i) => [m.name, i]));
    const late: string[] = [];
    manifests.forEach((m, i) => {
      for (const dep of Object.keys(m.dependencies ?? {})) {
        const at = position.get(dep);
        if (at !== undefined && at > i) late.push(`${m.name} is listed before its dependency ${dep}`);
      }
    });
    expect(late).toEqual([]);
  });
});
