import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './shared.js';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Node arguments that run a TypeScript entry point from source (tsx loader, `@hds/source` condition). */
const sourceArgs = (entry: string) => ['--conditions=@hds/source', '--import', 'tsx', entry];

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
    const child = spawn(process.execPath, sourceArgs(entry), {
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

export type OutputStream = 'stdout' | 'stderr';

export interface RunningProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** Every stderr line so far. */
  readonly stderrLines: readonly string[];
  /** Resolves with the first stdout line (past or future) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, options?: { timeoutMs?: number }): Promise<string>;
  /** Resolves when the process exits. */
  exited: Promise<ProcessResult>;
  /** Whether the process still runs. */
  readonly running: boolean;
  /** Sends `signal` (default SIGTERM) if it still runs and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessResult>;
}

export interface StartProcessOptions {
  /** Names the process in error messages. */
  name: string;
  /** Arguments to `node` (the same binary that runs the caller). */
  args: readonly string[];
  /** The child's whole environment, plus PATH: nothing of the caller's environment leaks in. */
  env: Record<string, string>;
  /** Called with every output line as it arrives, e.g. to write a log file. */
  onLine?: (line: string, stream: OutputStream) => void;
}

/**
 * Starts a long-running `node` process and lets a test wait for its output lines, e.g. a "listening" log line,
 * and its exit. The caller must `stop()` it.
 */
export function startProcess(options: StartProcessOptions): RunningProcess {
  const child = spawn(process.execPath, options.args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderrLines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  let stdout = '';
  let stderr = '';
  const splitter = (stream: OutputStream) => {
    let partial = '';
    const emit = (line: string) => {
      options.onLine?.(line, stream);
      if (stream === 'stderr') {
        stderrLines.push(line);
        return;
      }
      lines.push(line);
      for (const waiter of waiters) waiter(line);
    };
    return {
      push: (text: string) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) emit(line);
      },
      flush: () => {
        if (partial !== '') emit(partial);
        partial = '';
      },
    };
  };
  const out = splitter('stdout');
  const err = splitter('stderr');
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    out.push(text);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr += text;
    err.push(text);
  });
  // `close` comes after the pipes are drained, so the result holds every line the process wrote.
  const exited = new Promise<ProcessResult>((resolve) => {
    child.on('close', (code, signal) => {
      out.flush();
      err.flush();
      resolve({ code, signal, stdout, stderr });
    });
    // A process that could not be spawned never closes.
    child.on('error', (error) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, stdout, stderr: `${stderr}${error.message}\n` });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    lines,
    stderrLines,
    exited,
    get running() {
      return running();
    },
    waitForLine: (match, waitOptions = {}) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      const timeoutMs = waitOptions.timeoutMs ?? 20_000;
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
              `${options.name}: no matching line within ${timeoutMs} ms\n${stdout.slice(-2000)}${stderr.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((result) => {
          if (!waiters.has(waiter)) return;
          done();
          reject(
            new Error(
              `${options.name} exited (${result.code ?? result.signal}) before a matching line\n${stdout.slice(-1000)}${stderr.slice(-2000)}`,
            ),
          );
        });
      });
    },
    stop: (signal = 'SIGTERM') => {
      if (running()) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts a long-running TypeScript entry point from source (like `runSourceEntrypoint`) and lets a test wait for
 * its output lines, e.g. a "listening" log line, and its exit. The test must `stop()` it.
 */
export function startSourceProcess(entry: string, env: Record<string, string>): RunningProcess {
  return startProcess({ name: entry, args: sourceArgs(entry), env });
}

/**
 * Starts built JavaScript (`apps/worker/dist/main.js`, relative to the repository root) as a user would run it:
 * `node <entry>`, with exactly `env` (plus PATH).
 */
export function startBuiltProcess(
  entry: string,
  env: Record<string, string>,
  options: { name?: string; onLine?: StartProcessOptions['onLine'] } = {},
): RunningProcess {
  return startProcess({
    name: options.name ?? entry,
    args: [entry],
    env,
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
}
