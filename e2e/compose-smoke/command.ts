import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command that exited non-zero (or did not exit in time): its output's tail is in the message. */
export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
    reason: string,
  ) {
    const tail = (text: string) => text.trimEnd().split('\n').slice(-40).join('\n');
    super(
      `\`${command}\` ${reason}` +
        (result.stdout.trim() ? `\n--- stdout (tail)\n${tail(result.stdout)}` : '') +
        (result.stderr.trim() ? `\n--- stderr (tail)\n${tail(result.stderr)}` : ''),
    );
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number;
  /** Resolve with a non-zero exit instead of throwing. */
  allowFailure?: boolean;
}

/** Runs `file args…` without a shell, collecting its output; throws `CommandFailed` on a non-zero exit. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const command = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let timedOut = false;
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandFailed(command, { code: null, stdout, stderr }, `could not start: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (timedOut) reject(new CommandFailed(command, result, `did not finish within ${timeoutMs / 1000} s`));
      else if (code !== 0 && !options.allowFailure) reject(new CommandFailed(command, result, `exited ${code}`));
      else resolve(result);
    });
  });
}
