import { load } from 'js-yaml';
import { run, type CommandResult, type RunOptions } from './command.js';

/** How this machine runs compose: the v2 plugin (`docker compose`) or the v1 program (`docker-compose`). */
export interface ComposeCli {
  file: string;
  prefix: string[];
  version: string;
}

export async function findComposeCli(): Promise<ComposeCli> {
  const v2 = await run('docker', ['compose', 'version', '--short'], { allowFailure: true }).catch(() => undefined);
  if (v2?.code === 0) return { file: 'docker', prefix: ['compose'], version: v2.stdout.trim() };
  const v1 = await run('docker-compose', ['version', '--short'], { allowFailure: true }).catch(() => undefined);
  if (v1?.code === 0) return { file: 'docker-compose', prefix: [], version: v1.stdout.trim() };
  throw new Error(
    'neither `docker compose` nor `docker-compose` runs here (bash ../shared/docker/engine.sh installs one)',
  );
}

/** One container of the project, as `docker inspect` sees it. */
export interface ContainerState {
  id: string;
  name: string;
  service: string;
  status: string;
  exitCode: number;
  /** `starting`, `healthy`, `unhealthy`; undefined without a health check. */
  health: string | undefined;
  restartCount: number;
}

interface Inspected {
  Id: string;
  Name: string;
  RestartCount: number;
  Config: { Labels: Record<string, string> };
  State: { Status: string; ExitCode: number; Health?: { Status: string } };
}

/** The resolved compose file (`compose config`): what each service gets once variables are substituted. */
export interface ResolvedCompose {
  services: Record<string, { environment?: Record<string, string | null>; restart?: string; profiles?: string[] }>;
}

export const PROJECT_LABEL = 'com.docker.compose.project';

/**
 * A compose project: docker-compose.yml in `cwd`, variables from `envFile` (compose's `--env-file`), named
 * `projectName` so it never touches a developer's own stack.
 */
export class ComposeProject {
  constructor(
    readonly cli: ComposeCli,
    readonly options: { cwd: string; projectName: string; envFile: string; env: NodeJS.ProcessEnv },
  ) {}

  get name(): string {
    return this.options.projectName;
  }

  compose(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const { cwd, projectName, envFile, env } = this.options;
    const all = [...this.cli.prefix, '--project-name', projectName, '--env-file', envFile, ...args];
    return run(this.cli.file, all, { cwd, env, ...options });
  }

  async config(): Promise<ResolvedCompose> {
    return load((await this.compose(['config'])).stdout) as ResolvedCompose;
  }

  async services(): Promise<string[]> {
    return (await this.compose(['config', '--services'])).stdout.split('\n').filter(Boolean);
  }

  /** The host address a service's container port is published on, e.g. `127.0.0.1:13001`. */
  async publishedAddress(service: string, containerPort: number): Promise<string> {
    return (await this.compose(['port', service, String(containerPort)])).stdout.trim();
  }

  async containers(): Promise<ContainerState[]> {
    const ids = (await run('docker', ['ps', '-aq', '--filter', `label=${PROJECT_LABEL}=${this.name}`])).stdout
      .split('\n')
      .filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse((await run('docker', ['inspect', ...ids])).stdout) as Inspected[];
    return inspected.map((c) => ({
      id: c.Id.slice(0, 12),
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels['com.docker.compose.service'] ?? '?',
      status: c.State.Status,
      exitCode: c.State.ExitCode,
      health: c.State.Health?.Status,
      restartCount: c.RestartCount,
    }));
  }

  /** Names of the project's volumes and networks that still exist. */
  async leftovers(): Promise<{ volumes: string[]; networks: string[] }> {
    const filter = ['--filter', `label=${PROJECT_LABEL}=${this.name}`, '--format', '{{.Name}}'];
    const names = (r: CommandResult) => r.stdout.split('\n').filter(Boolean);
    return {
      volumes: names(await run('docker', ['volume', 'ls', ...filter])),
      networks: names(await run('docker', ['network', 'ls', ...filter])),
    };
  }

  /**
   * Waits until every service of the file runs and is healthy (`workers` worker containers), and the one-shot
   * `restart: 'no'` services exited 0. Fails at once when a container exited with an error or was restarted.
   * Services of an optional profile (`profiles:`, e.g. `hasura`) are not started by a plain `up` and are skipped.
   */
  async waitHealthy(options: { workers: number; timeoutMs: number }): Promise<ContainerState[]> {
    const config = await this.config();
    const deadline = Date.now() + options.timeoutMs;
    let problems: string[] = [];
    for (;;) {
      const containers = await this.containers();
      problems = [];
      for (const [service, spec] of Object.entries(config.services)) {
        if (spec.profiles && spec.profiles.length > 0) continue;
        const mine = containers.filter((c) => c.service === service);
        const oneShot = spec.restart === 'no';
        const expected = service === 'worker' ? options.workers : 1;
        if (mine.length !== expected) problems.push(`${service}: ${mine.length} containers, expected ${expected}`);
        for (const c of mine) {
          if (c.restartCount > 0) throw new Error(`${c.name} was restarted ${c.restartCount} times (it crashed)`);
          if (oneShot) {
            if (c.status === 'exited' && c.exitCode !== 0) throw new Error(`${c.name} exited ${c.exitCode}`);
            if (c.status !== 'exited') problems.push(`${c.name}: ${c.status}, not done yet`);
            continue;
          }
          if (c.status === 'exited' || c.status === 'dead') throw new Error(`${c.name} ${c.status} (${c.exitCode})`);
          if (c.health === undefined) throw new Error(`${c.name} has no health check`);
          if (c.health !== 'healthy') problems.push(`${c.name}: ${c.status}, ${c.health}`);
        }
      }
      if (problems.length === 0) return containers;
      if (Date.now() > deadline) {
        throw new Error(`not healthy after ${options.timeoutMs / 1000} s:\n  ${problems.join('\n  ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
