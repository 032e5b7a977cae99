/**
 * `npm run test:compose`: docker-compose.yml for real, as the README tells a newcomer to use it, on moved ports.
 *
 * With a Docker engine (`bash ../shared/docker/engine.sh` installs one) it writes a `.env`-style file that moves
 * every published port (ADMIN_PORT, INGRESS_PORT, HEROKU_SIM_PORT, free ports) and, under a project name of its
 * own, builds the image, starts the stack and waits until every service is healthy; checks the worker image has
 * pg_dump; follows the README's flow through the published ports (add the seeded account, create a project on
 * sushi-prod, rotate with the README's curl, see the new value, a URL of the postgres service); signs in with
 * Heroku in Chromium; scales to three workers and rotates; runs `down` and `up` and checks the project and its sync
 * still work; then `down -v`. It prints each step's time. On failure it prints the step, the containers' states and
 * the services' logs; it always removes its containers, volumes and network (also on Ctrl-C), and the image layers
 * a cold build left unused.
 *
 * COMPOSE_SMOKE_BUILD=cold (default: `build --no-cache`, the first build a fresh clone gets) or `cached`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient, SimClient, formatLogLine, freePort, repoRoot, waitFor, type AdminSyncStatus } from '@hds/testkit';
import { CHROMIUM, signInWithHerokuInChromium } from './browser-sign-in.js';
import { run } from './command.js';
import { ComposeProject, PROJECT_LABEL, findComposeCli, type ComposeCli, type ResolvedCompose } from './compose.js';
import { readmeCommands, readmeSection } from './readme.js';

const buildMode = process.env.COMPOSE_SMOKE_BUILD ?? 'cold';
if (buildMode !== 'cold' && buildMode !== 'cached') throw new Error('COMPOSE_SMOKE_BUILD is cold or cached');
const PROJECT_PREFIX = 'hds-smoke-';
/** The port variables docker-compose.yml reads (the names `npm start` uses). */
const PORT_VARIABLES = ['ADMIN_PORT', 'INGRESS_PORT', 'HEROKU_SIM_PORT'] as const;
type Ports = Record<(typeof PORT_VARIABLES)[number], number>;
const HEALTHY_TIMEOUT_MS = 180_000;
const SYNC_TIMEOUT_MS = 30_000;
/** Where the apps' DATABASE_URLs point: heroku-sim's real databases on the compose network's postgres service. */
const APP_DATABASE_HOST = 'postgres:5432';

const timings: Array<{ step: string; ms: number }> = [];
let currentStep = 'preflight';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** The machine's load, printed with the timings: other work on the machine slows every step. */
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  currentStep = name;
  console.log(`\n== ${name}`);
  const started = performance.now();
  try {
    const result = await body();
    timings.push({ step: name, ms: performance.now() - started });
    console.log(`   ok, ${seconds(performance.now() - started)}`);
    return result;
  } catch (err) {
    timings.push({ step: `${name} (FAILED)`, ms: performance.now() - started });
    throw err;
  }
}

function printTimings(title: string, totalMs: number): void {
  console.log(`\n${title} Timings:`);
  for (const t of timings) console.log(`  ${seconds(t.ms).padStart(8)}  ${t.step}`);
  console.log(`  ${seconds(totalMs).padStart(8)}  total (${cpus().length} CPUs, ${load()})`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The caller's environment for compose, minus anything that would override the env file or the project. */
function composeEnv(cli: ComposeCli): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...PORT_VARIABLES, 'COMPOSE_PROJECT_NAME', 'COMPOSE_FILE']) delete env[name];
  if (cli.file === 'docker-compose') {
    // compose v1 with the docker-py builder: BuildKit would need buildx and Docker Hub (the `# syntax=` line).
    env.DOCKER_BUILDKIT ??= '0';
    env.COMPOSE_DOCKER_CLI_BUILD ??= '0';
  }
  return env;
}

async function distinctFreePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const ports: Partial<Ports> = {};
  for (const name of PORT_VARIABLES) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports as Ports;
}

/** Removes the stacks of earlier runs whose process is gone (killed before it could clean up). */
async function removeStaleProjects(make: (name: string) => ComposeProject): Promise<void> {
  const labelled = async (kind: 'ps' | 'volume') => {
    const args = kind === 'ps' ? ['ps', '-a'] : ['volume', 'ls'];
    const format = `{{.Label "${PROJECT_LABEL}"}}`;
    const out = await run('docker', [...args, '--filter', `label=${PROJECT_LABEL}`, '--format', format]);
    return out.stdout.split('\n').filter((name) => name.startsWith(PROJECT_PREFIX));
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const names = new Set([...(await labelled('ps')), ...(await labelled('volume'))]);
  for (const name of names) {
    const pid = Number(name.slice(PROJECT_PREFIX.length));
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    console.log(`   removing ${name}, left by a run that did not finish`);
    await make(name).compose(['down', '--volumes', '--remove-orphans', '--timeout', '5']);
  }
}

/** Connecting to `port` on each non-loopback IPv4 address of this machine: what answers. */
async function reachableBeyondLoopback(port: number): Promise<string[]> {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
  const answers = await Promise.all(
    addresses.map(
      (address) =>
        new Promise<string | null>((resolve) => {
          const socket = connect({ host: address, port, timeout: 2000 });
          socket.once('connect', () => {
            socket.destroy();
            resolve(address);
          });
          socket.once('timeout', () => {
            socket.destroy();
            resolve(null);
          });
          socket.once('error', () => resolve(null));
        }),
    ),
  );
  return answers.filter((a): a is string => a !== null);
}

/** Waits until the project's env var has `value` from release `version`, with the link active. */
async function waitForSync(
  admin: AdminClient,
  projectId: string,
  expected: { version: number; value: string },
): Promise<AdminSyncStatus> {
  let seen = 'nothing yet';
  try {
    return await waitFor(
      async () => {
        const [status, value] = await Promise.all([admin.syncStatus(projectId), admin.envValue(projectId)]);
        seen = `state ${status.state}, release v${status.lastReleaseVersion}, lastError ${status.lastError}, value ${value === expected.value ? 'new' : 'not the new one'}`;
        return status.state === 'active' && status.lastReleaseVersion === expected.version && value === expected.value
          ? status
          : false;
      },
      { timeoutMs: SYNC_TIMEOUT_MS, intervalMs: 250, what: `release v${expected.version} in the project` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${seen}`);
  }
}

interface Rotation {
  version: number;
  databaseUrl: string;
}

/** Runs the README's rotation command with heroku-sim's published port in place of the default one. */
async function rotateWithReadmeCurl(command: string, simPort: number): Promise<Rotation> {
  const moved = command.replace(/http:\/\/localhost:\d+\//, `http://localhost:${simPort}/`);
  console.log(`   $ ${moved}`);
  const out = await run('sh', ['-c', moved], { cwd: repoRoot, timeoutMs: 30_000 });
  const rotation = JSON.parse(out.stdout) as Partial<Rotation>;
  check(typeof rotation.version === 'number' && typeof rotation.databaseUrl === 'string', `curl said: ${out.stdout}`);
  return rotation as Rotation;
}

async function printDiagnostics(project: ComposeProject): Promise<void> {
  try {
    console.error('\n--- containers');
    for (const c of await project.containers()) {
      console.error(
        `   ${c.name}: ${c.status} (exit ${c.exitCode}), health ${c.health ?? '-'}, restarts ${c.restartCount}`,
      );
    }
    const logs = await project.compose(['logs', '--no-color', '--timestamps', '--tail=200'], { allowFailure: true });
    console.error('\n--- service logs (newest 200 lines each)');
    for (const line of logs.stdout.split('\n')) {
      const bar = line.indexOf(' | ');
      if (bar < 0) {
        console.error(line);
        continue;
      }
      const rest = line.slice(bar + 3);
      const json = rest.indexOf('{');
      const formatted = json >= 0 ? `${rest.slice(0, json)}${formatLogLine(rest.slice(json))}` : rest;
      console.error(`${line.slice(0, bar)} | ${formatted}`);
    }
  } catch (err) {
    console.error(`(could not read the containers' state or logs: ${(err as Error).message})`);
  }
}

async function main(): Promise<number> {
  check(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  const cli = await findComposeCli();
  await run('docker', ['info', '--format', '{{.ServerVersion}}']).catch((err: Error) => {
    throw new Error(`the Docker engine does not answer (bash ../shared/docker/engine.sh starts one): ${err.message}`);
  });
  const rotateCommand = readmeCommands(readmeSection(repoRoot, '### With Docker'), 'curl').find((c) =>
    c.includes('/rotate-credentials'),
  );
  check(rotateCommand !== undefined, "the README's Docker section has no `curl … rotate-credentials` command");

  const dir = mkdtempSync(join(tmpdir(), 'hds-compose-smoke-'));
  const ports = await distinctFreePorts();
  const envFile = join(dir, '.env');
  writeFileSync(envFile, PORT_VARIABLES.map((name) => `${name}=${ports[name]}\n`).join(''));
  const env = composeEnv(cli);
  const projectFor = (projectName: string) => new ComposeProject(cli, { cwd: repoRoot, projectName, envFile, env });
  const project = projectFor(`${PROJECT_PREFIX}${process.pid}`);
  console.log(
    `compose smoke test: ${cli.file} ${cli.prefix.join(' ')} ${cli.version}, project ${project.name}, ` +
      `${buildMode} build, ${cpus().length} CPUs, ${load()}\n   ${envFile}: ${PORT_VARIABLES.map((n) => `${n}=${ports[n]}`).join(' ')}`,
  );

  let stackRemoved = false;
  let interrupted = false;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (!stackRemoved) {
        console.log(`\n== clean-up: down -v (${project.name})`);
        await project
          .compose(['down', '--volumes', '--remove-orphans', '--timeout', '10'], { allowFailure: true })
          .then((r) => r.code !== 0 && console.error(r.stderr));
      }
      // A build leaves the previous image untagged, and a cold one its build stage too: remove this project's
      // unused layers (a cached run keeps the build stage, the next build's cache).
      const stage = buildMode === 'cold' ? 'heroku-db-sync.stage' : 'heroku-db-sync.stage=runtime';
      await run('docker', ['image', 'prune', '--force', '--filter', `label=${stage}`], { allowFailure: true });
      rmSync(dir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping at "${currentStep}"`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const started = performance.now();
  try {
    await step('earlier runs left nothing behind', () => removeStaleProjects(projectFor));

    const config: ResolvedCompose = await step('the compose file, resolved on the moved ports', async () => {
      const resolved = await project.config();
      const envOf = (service: string) => resolved.services[service]?.environment ?? {};
      const simUrl = `http://localhost:${ports.HEROKU_SIM_PORT}`;
      const urls: Array<[string, string | null | undefined, string]> = [
        ['admin ADMIN_PUBLIC_URL', envOf('admin').ADMIN_PUBLIC_URL, `http://localhost:${ports.ADMIN_PORT}`],
        ['admin HEROKU_OAUTH_BROWSER_URL', envOf('admin').HEROKU_OAUTH_BROWSER_URL, simUrl],
        ['heroku-sim SIM_PUBLIC_URL', envOf('heroku-sim').SIM_PUBLIC_URL, simUrl],
      ];
      for (const [what, actual, expected] of urls) check(actual === expected, `${what} is ${actual}, not ${expected}`);
      return resolved;
    });
    const envOf = (service: string) => config.services[service]?.environment ?? {};
    const containerPort = (service: string) => Number(envOf(service).PORT);
    const adminToken = envOf('admin').ADMIN_TOKEN!;
    const seed = envOf('heroku-sim');
    const seedApps = (seed.SIM_SEED_APPS ?? '').split(',');
    check(seedApps.includes('sushi-prod'), `heroku-sim's seed has no sushi-prod: ${seed.SIM_SEED_APPS}`);
    const admin = new AdminClient({ url: `http://localhost:${ports.ADMIN_PORT}`, token: adminToken });
    const sim = new SimClient({ url: `http://localhost:${ports.HEROKU_SIM_PORT}` });

    await step(`build (${buildMode})`, async () => {
      const out = await project.compose(['build', ...(buildMode === 'cold' ? ['--no-cache'] : [])]);
      const npmCi = `${out.stdout}\n${out.stderr}`.match(/RUN npm ci/g)?.length ?? 0;
      if (buildMode === 'cold') check(npmCi === 1, `the build ran \`npm ci\` ${npmCi} times, not once`);
    });

    await step('up -d, until every service is healthy', async () => {
      await project.compose(['up', '-d']);
      await project.waitHealthy({ workers: 1, timeoutMs: HEALTHY_TIMEOUT_MS });
    });

    await step('the worker image carries pg_dump (data migrations)', async () => {
      const out = await project.compose(['exec', '-T', 'worker', 'pg_dump', '--version'], { timeoutMs: 30_000 });
      check(
        /^pg_dump \(PostgreSQL\) \d+/.test(out.stdout.trim()),
        `pg_dump --version said: ${out.stdout}${out.stderr}`,
      );
      console.log(`   ${out.stdout.trim()}`);
    });

    await step('published ports: the moved ones, on 127.0.0.1 only', async () => {
      const published: Array<[string, number]> = [
        ['admin', ports.ADMIN_PORT],
        ['ingress', ports.INGRESS_PORT],
        ['heroku-sim', ports.HEROKU_SIM_PORT],
      ];
      for (const [service, port] of published) {
        const address = await project.publishedAddress(service, containerPort(service));
        check(address === `127.0.0.1:${port}`, `${service} is published on ${address}, not 127.0.0.1:${port}`);
        const beyond = await reachableBeyondLoopback(port);
        check(beyond.length === 0, `${service} answers on ${beyond.join(', ')} too`);
      }
    });

    const { accountId, projectId, first } = await step('the README flow through the published ports', async () => {
      const account = await admin.addAccount(seed.SIM_SEED_API_KEY!);
      check(account.email === seed.SIM_SEED_EMAIL, `the seeded API key is ${account.email}'s`);
      const apps = (await admin.listApps(account.id)).map((a) => a.name).sort();
      check(apps.join() === [...seedApps].sort().join(), `the account's apps are ${apps.join()}`);
      const created = await admin.createProject({
        name: 'compose-smoke',
        heroku: { accountId: account.id, app: 'sushi-prod' },
      });
      check(created.sync.state === 'active', `the new project's sync is ${created.sync.state}`);
      const rotation = await rotateWithReadmeCurl(rotateCommand, ports.HEROKU_SIM_PORT);
      check(
        rotation.version > (created.sync.lastReleaseVersion ?? 0),
        `the rotation made release v${rotation.version}`,
      );
      await waitForSync(admin, created.id, { version: rotation.version, value: rotation.databaseUrl });
      // heroku-sim's databases are real ones on the postgres service: the URL names it as the containers reach it.
      const received = new URL((await admin.envValue(created.id))!);
      check(received.host === APP_DATABASE_HOST, `the rotated URL names ${received.host}, not ${APP_DATABASE_HOST}`);
      console.log(`   release v${rotation.version} reached project ${created.id} (a database on ${received.host})`);
      return { accountId: account.id, projectId: created.id, first: rotation };
    });

    const consoleProjectId = await step('"Sign in with Heroku" in Chromium, on the moved ports', () =>
      signInWithHerokuInChromium({
        consoleUrl: envOf('admin').ADMIN_PUBLIC_URL!,
        authorizeUrl: envOf('admin').HEROKU_OAUTH_BROWSER_URL!,
        adminToken,
        email: seed.SIM_SEED_EMAIL!,
        app: 'sushi-staging',
        screenshotDir: dir,
      }),
    );

    const afterScale = await step('--scale worker=3, then three rotations', async () => {
      await project.compose(['up', '-d', '--scale', 'worker=3']);
      await project.waitHealthy({ workers: 3, timeoutMs: HEALTHY_TIMEOUT_MS });
      const rotations: Rotation[] = [];
      for (let i = 0; i < 3; i++) rotations.push(await sim.rotateCredentials('sushi-prod'));
      const last = rotations.at(-1)!;
      await waitForSync(admin, projectId, { version: last.version, value: last.databaseUrl });
      // Three workers, one history: each release applied at most once, in order.
      const applied = (await admin.audit(projectId))
        .filter((e) => e.action === 'env_synced')
        .map((e) => e.releaseVersion!)
        .reverse();
      const inOrder = applied.every((v, i) => i === 0 || v > applied[i - 1]!);
      check(inOrder, `env_synced releases, oldest first: ${applied.join(', ')}`);
      check(applied.includes(first.version) && applied.at(-1) === last.version, `applied: ${applied.join(', ')}`);
      console.log(`   releases applied, oldest first: v${applied.join(', v')}`);
      return last;
    });

    await step('down, up: the project and its sync still work', async () => {
      const simApps = () => sim.http.expect<Array<{ id: string; name: string }>>('GET', '/_sim/apps', { status: 200 });
      const appsBefore = await simApps();
      const volumes = (await project.leftovers()).volumes;
      await project.compose(['down', '--timeout', '10']);
      check((await project.containers()).length === 0, 'containers are left after down');
      const kept = (await project.leftovers()).volumes;
      check(kept.join() === volumes.join(), `down kept the volumes ${kept.join(', ')} of ${volumes.join(', ')}`);
      await project.compose(['up', '-d']);
      await project.waitHealthy({ workers: 1, timeoutMs: HEALTHY_TIMEOUT_MS });

      // The service's own state is in the postgres volume.
      check((await admin.envValue(projectId)) === afterScale.databaseUrl, 'the project lost its env var value');
      // Heroku's side (heroku-sim) must still know its apps, or every link goes "App missing".
      const appsAfter = await simApps();
      const ids = (apps: Array<{ id: string; name: string }>) => apps.map((a) => `${a.name} ${a.id}`).sort();
      check(
        ids(appsAfter).join() === ids(appsBefore).join(),
        `heroku-sim forgot its apps across down/up: before ${ids(appsBefore).join(', ')}; after ${ids(appsAfter).join(', ')}`,
      );
      const rotation = await rotateWithReadmeCurl(rotateCommand, ports.HEROKU_SIM_PORT);
      check(rotation.version > afterScale.version, `after down/up the rotation made release v${rotation.version}`);
      await waitForSync(admin, projectId, { version: rotation.version, value: rotation.databaseUrl });
      console.log(`   release v${rotation.version} reached the project after down/up`);
      // The account signed in with Heroku in Chromium still works, and so does the console's project.
      const apps = (await admin.listApps(accountId)).map((a) => a.name).sort();
      check(apps.join() === [...seedApps].sort().join(), `after down/up the account's apps are ${apps.join()}`);
      const consoleSync = await admin.syncStatus(consoleProjectId);
      check(consoleSync.state === 'active', `the console's project is ${consoleSync.state}: ${consoleSync.lastError}`);
    });

    await step('down -v: nothing left', async () => {
      await project.compose(['down', '--volumes', '--timeout', '10']);
      stackRemoved = true;
      const containers = await project.containers();
      const { volumes, networks } = await project.leftovers();
      check(
        containers.length + volumes.length + networks.length === 0,
        `left: ${[...volumes, ...networks].join(', ')}`,
      );
    });

    printTimings('compose smoke test passed.', performance.now() - started);
    return 0;
  } catch (err) {
    if (interrupted) return 130; // what failed is the clean-up already under way
    console.error(`\ncompose smoke test FAILED at "${currentStep}":\n${(err as Error).message}`);
    await printDiagnostics(project);
    printTimings(`compose smoke test FAILED at "${currentStep}".`, performance.now() - started);
    return 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`compose smoke test could not run: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
