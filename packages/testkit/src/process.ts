import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './shared.js';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point from source (tsx loader, `@hds/source` condition) in a child process with
 * exactly `env` (plus PATH), and resolves when it exits. For start-up checks such as env validation.
 */
export function runSourceEntrypoint(
  entry: string,
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@hds/source', '--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not exit within ${options.timeoutMs ?? 20_000} ms`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** Resolves with the first stdout line (past or future) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, options?: { timeoutMs?: number }): Promise<string>;
  /** Resolves when the process exits. */
  exited: Promise<ProcessResult>;
  /** Sends `signal` (default SIGTERM) if it still runs and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessResult>;
}

/**
 * Starts a long-running TypeScript entry point from source (like `runSourceEntrypoint`) and lets a test wait for
 * its output lines, e.g. a "listening" log line, and its exit. The test must `stop()` it.
 */
export function startSourceProcess(entry: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, ['--conditions=@hds/source', '--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters) waiter(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<ProcessResult>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });

  return {
    child,
    lines,
    exited,
    waitForLine: (match, options = {}) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      const timeoutMs = options.timeoutMs ?? 20_000;
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const waiter = (line: string) => {
          if (!match(line)) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${entry}: no matching line within ${timeoutMs} ms\n${stdout.slice(-2000)}${stderr.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((result) => {
          if (!waiters.has(waiter)) return;
          done();
          reject(
            new Error(
              `${entry} exited (${result.code ?? result.signal}) before a matching line\n${stderr.slice(-2000)}`,
            ),
          );
        });
      });
    },
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
