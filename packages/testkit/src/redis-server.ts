import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private `redis-server` process for tests that need to stop, pause or restart Redis. Never stop the shared
 * test Redis: other test files use it at the same time.
 */
export interface RedisServer {
  port: number;
  url: string;
  /** Whether the process is running (it may be paused). */
  readonly running: boolean;
  /** Stops the server (SIGTERM, or SIGKILL for a crash) and resolves once the process has exited. */
  stop(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** Starts it again on the same port and resolves once it accepts connections. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, commands get no answer. */
  pause(): void;
  /** Undoes `pause` (SIGCONT). */
  resume(): void;
  /** Stops the server if it runs and deletes its working directory. */
  close(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

function spawnRedis(options: {
  bin: string;
  port: number;
  dir: string;
  timeoutMs: number;
  extraArgs: readonly string[];
}): Promise<ChildProcess> {
  const args = [
    '--port',
    String(options.port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    options.dir,
    '--loglevel',
    'notice',
    ...options.extraArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${options.port} ${reason}\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${options.timeoutMs} ms`), options.timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onEarlyExit);
        // Keep draining the pipes so the server never blocks on a full one.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    const onEarlyExit = (code: number | null) => fail(`exited with code ${code} before it was ready`);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', onEarlyExit);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Spawns `redis-server` (binary from `REDIS_SERVER_BIN`, default `redis-server` on PATH) on a free loopback
 * port, without persistence unless `args` configure it (e.g. `['--appendonly', 'yes']`; later arguments win), in a
 * temporary directory. Resolves once it accepts connections.
 */
export async function startRedisServer(
  options: { port?: number; timeoutMs?: number; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'hds-redis-'));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const extraArgs = options.args ?? [];
  let child: ChildProcess | undefined = await spawnRedis({ bin, port, dir, timeoutMs, extraArgs });

  const stop = async (stopOptions: { signal?: 'SIGTERM' | 'SIGKILL' } = {}) => {
    const current = child;
    if (current === undefined) return;
    child = undefined;
    const exited = waitForExit(current);
    // A paused process only acts on SIGTERM once it runs again.
    current.kill('SIGCONT');
    current.kill(stopOptions.signal ?? 'SIGTERM');
    await exited;
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    stop,
    start: async () => {
      if (child !== undefined) throw new Error('redis-server is already running');
      child = await spawnRedis({ bin, port, dir, timeoutMs, extraArgs });
    },
    pause: () => {
      if (child === undefined) throw new Error('redis-server is not running');
      child.kill('SIGSTOP');
    },
    resume: () => {
      if (child === undefined) throw new Error('redis-server is not running');
      child.kill('SIGCONT');
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
