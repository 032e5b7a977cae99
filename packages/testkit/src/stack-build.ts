import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './shared.js';

interface Manifest {
  workspaces?: string[];
  main?: string;
  exports?: Record<string, unknown>;
}

const readManifest = (path: string): Manifest | undefined =>
  existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : undefined;

/** The built file a workspace's `exports["."].default` (or `main`) names, when it names one. */
function builtEntry(manifest: Manifest): string | undefined {
  const dot = manifest.exports?.['.'];
  if (dot && typeof dot === 'object' && typeof (dot as { default?: unknown }).default === 'string') {
    return (dot as { default: string }).default;
  }
  return manifest.main;
}

/**
 * Throws a message that says what to do when built code the stack runs is missing: each of `entries` (paths
 * under `root`) and the built entry of every workspace of `root`'s package.json (apps import them from `dist/`).
 */
export function assertBuilt(options: { entries: readonly string[]; root?: string }): void {
  const root = options.root ?? repoRoot;
  const missing = options.entries.filter((entry) => !existsSync(join(root, entry)));
  for (const workspace of readManifest(join(root, 'package.json'))?.workspaces ?? []) {
    const manifest = readManifest(join(root, workspace, 'package.json'));
    const entry = manifest && builtEntry(manifest);
    if (entry !== undefined && !existsSync(join(root, workspace, entry))) missing.push(join(workspace, entry));
  }
  if (missing.length > 0) {
    throw new Error(
      `the apps are not built (missing: ${missing.join(', ')}). Run \`npm run build\` first: ` +
        `the stack starts the built apps (node apps/<app>/dist/main.js), as a user would.`,
    );
  }
}
