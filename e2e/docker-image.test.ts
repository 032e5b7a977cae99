// Checks without a Docker engine that the image holds what the services run, and that docker-compose.yml wires
// them as documented (with compose's variable substitution done as `docker compose` does it). `docker-compose
// config -q` (in .ci/run) validates the file's syntax; `npm run test:compose` runs the stack for real.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix } from 'node:path';
import { parseEnv } from '@hds/core';
import { repoRoot } from '@hds/testkit';
import { load } from 'js-yaml';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { AdminEnv } from '../apps/admin/src/env.js';
import { SimEnv } from '../apps/heroku-sim/src/env.js';
import { IngressEnv } from '../apps/ingress/src/env.js';
import { WorkerEnv } from '../apps/worker/src/env.js';
import {
  composeText,
  composeV1Order,
  composeVariables,
  interpolate,
  loadCompose,
  type ComposeFile,
} from './support/compose-file.js';
import { copies, covers, dockerignore, parseDockerfile, relative } from './support/dockerfile.js';

interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  exports?: { '.'?: { default?: string } };
  files?: string[];
}
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const manifestOf = (dir: string) => JSON.parse(read(posix.join(dir, 'package.json'))) as Manifest;

const root = manifestOf('.');
const workspaces = root.workspaces ?? [];
const workspaceByName = new Map(workspaces.map((w) => [manifestOf(w).name, w]));
const stages = parseDockerfile(read('Dockerfile'));
const build = stages.find((s) => s.name === 'build')!;
const runtime = stages.at(-1)!;

const compose = loadCompose();
const services = compose.services;
const appServices = Object.entries(services).filter(([, s]) => s.image === 'heroku-db-sync:local');

/** The node script of a command such as `['node', 'apps/worker/dist/main.js']`. */
const scriptOf = (command: readonly string[] = []) => command.find((arg) => arg.endsWith('.js'));

/** Paths (relative to /app) the runtime image has, and where they come from in the build stage. */
const runtimeCopies = copies(runtime).flatMap((c) => c.targets.map((t) => ({ ...t, from: c.from })));
const inRuntime = (path: string) => runtimeCopies.some((c) => covers(c.target, path));
/** The workspace (or the root, '.') a repository path belongs to. */
const workspaceOf = (path: string) => workspaces.find((w) => covers(w, path)) ?? '.';

describe('Dockerfile', () => {
  it('copies every workspace’s package.json before `npm ci`, and every workspace into the build', () => {
    const instructions = build.instructions;
    const ci = instructions.findIndex((i) => i.op === 'RUN' && i.args.join(' ').includes('npm ci'));
    expect(ci).toBeGreaterThan(0);
    const before = copies({ ...build, instructions: instructions.slice(0, ci) }).flatMap((c) => c.targets);
    const manifestsCopied = new Set(before.map((t) => t.target));
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) expect(manifestsCopied).toContain(file);
    for (const w of workspaces) expect(manifestsCopied, `${w}/package.json`).toContain(`${w}/package.json`);

    const buildTargets = copies(build).flatMap((c) => c.targets.map((t) => t.target));
    for (const w of workspaces) {
      expect(
        buildTargets.some((t) => covers(t, `${w}/src`)),
        `${w} in the build stage`,
      ).toBe(true);
      // Each workspace's tsconfig chain is there too.
      for (let config = `${w}/tsconfig.build.json`; ;) {
        const path = config;
        expect(
          buildTargets.some((t) => covers(t, path)),
          `${path} in the build stage`,
        ).toBe(true);
        const extended: string | undefined = (JSON.parse(read(path)) as { extends?: string }).extends;
        if (!extended) break;
        config = posix.normalize(posix.join(posix.dirname(path), extended));
      }
    }
  });

  it('builds, then keeps production dependencies only, and runs as a non-root user', () => {
    const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args.join(' '));
    expect(runs.some((r) => r.includes('npm run build') && r.includes('npm prune --omit=dev'))).toBe(true);
    expect(runtimeCopies.filter((c) => c.target === 'node_modules')).toEqual([
      { source: 'node_modules', target: 'node_modules', from: 'build' },
    ]);
    const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args[0]);
    expect(users.at(-1)).toBeDefined();
    expect(['root', '0']).not.toContain(users.at(-1));
    // Everything the runtime stage takes from the build stage was copied in or built there.
    const buildTargets = copies(build).flatMap((c) => c.targets.map((t) => t.target));
    for (const c of runtimeCopies.filter((c) => c.from === 'build')) {
      const built = c.source === 'node_modules' || c.source.endsWith('/dist');
      expect(built || buildTargets.some((t) => covers(t, c.source)), c.source).toBe(true);
    }
  });

  it('.dockerignore leaves in every file the build copies, except built output', () => {
    const ignored = dockerignore(read('.dockerignore'));
    const contextSources = copies(build)
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources)
      .concat(
        copies(runtime)
          .filter((c) => c.from === undefined)
          .flatMap((c) => c.sources),
      );
    const files = (path: string): string[] => {
      const full = join(repoRoot, path);
      if (!statSync(full).isDirectory()) return [path];
      return readdirSync(full)
        .filter((name) => name !== 'node_modules' && name !== 'dist')
        .flatMap((name) => files(posix.join(path, name)));
    };
    const needed = contextSources.flatMap(files);
    expect(needed.length).toBeGreaterThan(100);
    expect(needed.filter(ignored)).toEqual([]);
    expect(ignored('apps/admin/dist/main.js') && ignored('node_modules/x/index.js')).toBe(true);
  });

  it('has in the runtime image every file each service runs, and what it imports, declared as production dependencies', () => {
    const entries = new Set<string>();
    const cmd = runtime.instructions.filter((i) => i.op === 'CMD').at(-1);
    if (cmd) entries.add(scriptOf(cmd.args)!);
    for (const [name, service] of appServices) {
      const script = scriptOf(service.command);
      expect(script, `${name} runs a node script`).toBeDefined();
      entries.add(script!);
      const check = scriptOf(service.healthcheck?.test);
      if (check) entries.add(check);
    }
    expect([...entries].sort()).toEqual(
      expect.arrayContaining([
        'apps/admin/dist/main.js',
        'apps/heroku-sim/dist/main.js',
        'apps/ingress/dist/main.js',
        'apps/worker/dist/main.js',
        'packages/db/dist/migrate-cli.js',
        'tools/healthcheck.js',
      ]),
    );

    const problems: string[] = [];
    const seen = new Set<string>();
    const runtimeWorkspaces = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!inRuntime(file)) problems.push(`${file} is not in the runtime image`);
      if (!existsSync(join(repoRoot, file))) {
        problems.push(`${file} does not exist (run npm run build)`);
        return;
      }
      const owner = workspaceOf(file);
      runtimeWorkspaces.add(owner);
      const deps = manifestOf(owner).dependencies ?? {};
      const text = read(file);
      for (const match of text.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)) {
        const target = posix.normalize(posix.join(posix.dirname(file), match[1]!));
        if (!inRuntime(target)) problems.push(`${file} reads ${target}, which is not in the runtime image`);
      }
      // Static imports and re-exports (`… from '…'`, `import '…'`) and dynamic `import('…')`.
      const imports =
        /^(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm;
      for (const match of text.matchAll(imports)) {
        const specifier = (match[1] ?? match[2] ?? match[3])!;
        if (specifier.startsWith('.')) {
          visit(posix.normalize(posix.join(posix.dirname(file), specifier)));
          continue;
        }
        if (isBuiltin(specifier)) continue;
        const parts = specifier.split('/');
        const pkg = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
        if (!(pkg in deps)) problems.push(`${file} imports ${pkg}, not in ${owner}/package.json "dependencies"`);
        const workspace = workspaceByName.get(pkg);
        if (workspace === undefined) continue;
        const entry = manifestOf(workspace).exports?.['.']?.default;
        if (!entry) {
          problems.push(`${pkg} has no built entry point (exports["."].default)`);
          continue;
        }
        if (!inRuntime(`${workspace}/package.json`))
          problems.push(`${workspace}/package.json is not in the runtime image`);
        visit(posix.join(workspace, relative(entry)));
      }
    };
    for (const entry of entries) visit(entry);
    for (const w of runtimeWorkspaces) {
      for (const path of manifestOf(w).files ?? []) {
        if (!inRuntime(posix.join(w, path))) problems.push(`${w}/${path} ("files") is not in the runtime image`);
      }
    }
    expect(problems).toEqual([]);
    expect([...runtimeWorkspaces].sort()).toEqual(
      expect.arrayContaining(['apps/admin', 'apps/heroku-sim', 'packages/core', 'packages/db', 'packages/sync']),
    );
  });
});

/** The host port `containerPort` of `service` is published on, in `file` (`127.0.0.1:host:container`). */
const publishedIn = (file: ComposeFile, service: string, containerPort: string | undefined) =>
  (file.services[service]?.ports ?? [])
    .map((p) => p.split(':'))
    .find((parts) => parts.at(-1) === containerPort)
    ?.at(-2);

describe('docker-compose.yml', () => {
  const env = (service: string) => services[service]?.environment ?? {};
  const port = (service: string) => env(service).PORT;
  const published = (service: string, containerPort: string | undefined) =>
    publishedIn(compose, service, containerPort);
  const envNames = (app: string) =>
    new Set([...read(`apps/${app}/src/env.ts`).matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
  const schemas: Record<string, z.ZodType> = {
    'apps/admin/dist/main.js': AdminEnv,
    'apps/heroku-sim/dist/main.js': SimEnv,
    'apps/ingress/dist/main.js': IngressEnv,
    'apps/worker/dist/main.js': WorkerEnv,
  };
  const allNames = new Set(['admin', 'heroku-sim', 'ingress', 'worker'].flatMap((app) => [...envNames(app)]));

  it('gives each app an environment its own env schema accepts, naming no variable that no app reads', () => {
    for (const [name, service] of appServices) {
      const vars = service.environment ?? {};
      const unknown = Object.keys(vars).filter((key) => !allNames.has(key));
      expect(unknown, `${name}: variables no app reads`).toEqual([]);
      const schema = schemas[scriptOf(service.command)!];
      if (!schema) continue;
      const result = parseEnv(schema, vars);
      expect(result.ok ? [] : result.problems, name).toEqual([]);
    }
    // heroku-sim has an environment of its own: every name is one it reads.
    const simNames = envNames('heroku-sim');
    expect(Object.keys(env('heroku-sim')).filter((key) => !simNames.has(key))).toEqual([]);
  });

  it('wires heroku-sim, the ingress and the admin together, and the browser to both through published ports', () => {
    for (const service of ['worker', 'admin']) {
      const vars = env(service);
      expect(vars.PUBLIC_WEBHOOK_BASE_URL).toBe(`http://ingress:${port('ingress')}`);
      expect(vars.HEROKU_API_URL).toBe(`http://heroku-sim:${port('heroku-sim')}`);
      expect(vars.HEROKU_OAUTH_URL).toBe(`http://heroku-sim:${port('heroku-sim')}`);
      expect(vars.HEROKU_OAUTH_CLIENT_ID).toBe(env('heroku-sim').SIM_OAUTH_CLIENT_ID);
      expect(vars.HEROKU_OAUTH_CLIENT_SECRET).toBe(env('heroku-sim').SIM_OAUTH_CLIENT_SECRET);
      const database = new URL(vars.DATABASE_URL!);
      expect(database.hostname).toBe('postgres');
      expect(database.password).toBe(env('postgres').POSTGRES_PASSWORD);
      expect(database.pathname).toBe(`/${env('postgres').POSTGRES_DB}`);
      expect(new URL(vars.REDIS_URL!).hostname).toBe('redis');
    }
    // The browser reaches heroku-sim's authorize page and the console on localhost, through the published ports.
    const simPublic = `http://localhost:${published('heroku-sim', port('heroku-sim'))}`;
    expect(env('heroku-sim').SIM_PUBLIC_URL).toBe(simPublic);
    expect(env('admin').HEROKU_OAUTH_BROWSER_URL).toBe(simPublic);
    expect(published('admin', port('admin'))).toBe('3001');
    expect(env('admin').ADMIN_PUBLIC_URL).toBe('http://localhost:3001');
    // A seeded account (with an API key to add it by) owning at least one app.
    expect(env('heroku-sim')).toMatchObject({
      SIM_SEED_EMAIL: expect.stringContaining('@'),
      SIM_SEED_API_KEY: expect.any(String),
      SIM_SEED_APPS: expect.stringMatching(/\w/),
    });
  });

  it('scales workers, health-checks every long-running service, and starts the apps after migrations', () => {
    const worker = services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no') continue; // a one-shot job (migrations)
      expect(service.healthcheck?.test, `${name} health check`).toBeDefined();
    }
    for (const name of ['worker', 'admin']) {
      expect(services[name]?.depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(scriptOf(services.migrate?.command)).toBe('packages/db/dist/migrate-cli.js');
  });

  it('publishes ports on 127.0.0.1 only, and moves each published port and the URLs a browser is sent to with one variable', () => {
    // Every published port is bound to loopback: the stack's secrets and heroku-sim's /_sim controls stay local.
    for (const [name, service] of Object.entries(services)) {
      for (const mapping of service.ports ?? []) expect(mapping, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    // Each variable has one default wherever it is used.
    const defaults = new Map<string, Set<string | undefined>>();
    for (const { name, fallback } of composeVariables(composeText())) {
      defaults.set(name, (defaults.get(name) ?? new Set()).add(fallback));
    }
    for (const [name, values] of defaults) expect([...values], name).toHaveLength(1);
    expect([...defaults.keys()]).toEqual(expect.arrayContaining(['ADMIN_PORT', 'INGRESS_PORT', 'HEROKU_SIM_PORT']));

    // A `.env` with other ports moves the published ports and every browser-facing URL; nothing else changes.
    const moved = loadCompose({ ADMIN_PORT: '13001', INGRESS_PORT: '13000', HEROKU_SIM_PORT: '15000' });
    const movedEnv = (service: string) => moved.services[service]?.environment ?? {};
    expect(publishedIn(moved, 'admin', port('admin'))).toBe('13001');
    expect(publishedIn(moved, 'ingress', port('ingress'))).toBe('13000');
    expect(publishedIn(moved, 'heroku-sim', port('heroku-sim'))).toBe('15000');
    expect(movedEnv('admin').ADMIN_PUBLIC_URL).toBe('http://localhost:13001');
    expect(movedEnv('admin').HEROKU_OAUTH_BROWSER_URL).toBe('http://localhost:15000');
    expect(movedEnv('heroku-sim').SIM_PUBLIC_URL).toBe('http://localhost:15000');
    const changed = (a: ComposeFile, b: ComposeFile) =>
      Object.keys(a.services).flatMap((name) => {
        const [x, y] = [a.services[name]!, b.services[name]!];
        const vars = Object.keys({ ...x.environment, ...y.environment }).filter(
          (key) => x.environment?.[key] !== y.environment?.[key],
        );
        return [...vars, ...(JSON.stringify(x.ports) === JSON.stringify(y.ports) ? [] : ['ports'])].map(
          (what) => `${name} ${what}`,
        );
      });
    expect(new Set(changed(compose, moved))).toEqual(
      new Set([
        'admin ports',
        'ingress ports',
        'heroku-sim ports',
        'heroku-sim SIM_PUBLIC_URL',
        ...['migrate', 'ingress', 'worker', 'admin'].flatMap((s) => [
          `${s} ADMIN_PUBLIC_URL`,
          `${s} HEROKU_OAUTH_BROWSER_URL`,
        ]),
      ]),
    );
  });

  it('builds the image once: one service builds it, the others run it, and compose v1 builds before it would pull', () => {
    const builders = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(builders.map(([name]) => name)).toHaveLength(1);
    const [builder, spec] = builders[0]!;
    expect(spec.build).toBe('.');
    expect(spec.image).toBe('heroku-db-sync:local');
    const users = appServices.map(([name]) => name);
    expect(users).toEqual(expect.arrayContaining(['migrate', 'heroku-sim', 'ingress', 'worker', 'admin']));
    const order = composeV1Order(services).filter((name) => users.includes(name));
    expect(order[0]).toBe(builder);
  });

  it('.dockerignore keeps node_modules, built output, git and whatever git ignores out of the build context', () => {
    const ignored = dockerignore(read('.dockerignore'));
    // A path each .gitignore pattern matches (`*` as a name), at the top and, for unanchored names, below.
    const gitignored = read('.gitignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'))
      .flatMap((pattern) => {
        const path = pattern.replace(/^\//, '').replace(/\/$/, '').replaceAll('*', 'x');
        return pattern.startsWith('/') || pattern.slice(0, -1).includes('/') ? [path] : [path, `apps/admin/${path}`];
      });
    expect(gitignored.filter((path) => !ignored(path))).toEqual([]);
    for (const path of [
      'node_modules/zod/package.json',
      'apps/admin/node_modules/x/index.js',
      'packages/db/dist/index.js',
      '.git',
      '.git/HEAD',
      '.env',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it("the README's Docker section names the compose file's default ports", () => {
    const section = read('README.md').split('### With Docker')[1]!.split('\n### ')[0]!;
    const urls = [...section.matchAll(/http:\/\/localhost:(\d+)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    const defaults = [published('admin', port('admin')), published('heroku-sim', port('heroku-sim'))];
    for (const url of urls) expect(defaults).toContain(url);
  });

  it("the README's override for the real Heroku aims the ingress, worker and admin at Heroku, with secrets from .env", () => {
    const section = read('README.md').split('### With Docker')[1]!.split('\n### ')[0]!;
    const yaml = /```yaml\n# docker-compose\.override\.yml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    const random = () => randomBytes(32).toString('base64url');
    const dotEnv = {
      HEROKU_OAUTH_CLIENT_ID: randomUUID(),
      HEROKU_OAUTH_CLIENT_SECRET: random(),
      PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com',
      ADMIN_PUBLIC_URL: 'https://sync.example.com',
      WEBHOOK_SIGNING_KEYS: random(),
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      ADMIN_TOKEN: random(),
    };
    // Without its secrets in .env, compose refuses to start.
    expect(() => interpolate(yaml!, {})).toThrow(/set it in \.env/);
    const override = load(interpolate(yaml!, dotEnv)) as ComposeFile;
    expect(Object.keys(override.services).sort()).toEqual(['admin', 'ingress', 'worker']);
    for (const [name, extra] of Object.entries(override.services)) {
      // Compose merges `environment` maps by name.
      const merged = { ...services[name]!.environment, ...extra.environment };
      const result = parseEnv(schemas[scriptOf(services[name]!.command)!]!, merged);
      expect(result.ok ? [] : result.problems, name).toEqual([]);
      expect(merged).toMatchObject({ ...dotEnv, HEROKU_API_URL: 'https://api.heroku.com' });
      expect(merged.HEROKU_OAUTH_URL).toBe('https://id.heroku.com');
      expect(merged.HEROKU_OAUTH_BROWSER_URL).toBe('https://id.heroku.com');
      expect(merged.LOCAL_DEVELOPMENT).toBe('false');
    }
  });
});
