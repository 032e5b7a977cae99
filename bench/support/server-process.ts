import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot } from '@hds/testkit';

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  port: number;
  url: string;
  logFile: string;
}

/**
 * Starts a server process on a free port, its stdout (the log lines) going to a file as a log collector would take
 * them — not through a pipe into the load generator — and resolves once it answers `GET /healthz`.
 */
export async function startServerProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<ServerProcess> {
  const port = await freePort();
  const logFile = join(tmpdir(), `hds-bench-${name}-${process.pid}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}; see ${logFile}`);
    const healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (healthy) return { name, child, port, url: `http://127.0.0.1:${port}`, logFile };
    if (Date.now() > deadline) throw new Error(`${name} did not answer /healthz within 20 s; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function stopServerProcess(server: Pick<ServerProcess, 'child'> | undefined): Promise<void> {
  const child = server?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
