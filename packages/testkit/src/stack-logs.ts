import { createWriteStream, type WriteStream } from 'node:fs';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line of an app carries: left out of the readable form. */
const NOISE = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app']);

/** A pino JSON line as `12:00:01.234 INFO  msg {rest}`; any other line as it is. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : '';
  const rest = Object.fromEntries(Object.entries(record).filter(([key]) => !NOISE.has(key)));
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${time} ${level.padEnd(5)} ${typeof record.msg === 'string' ? record.msg : ''}${extra}`;
}

/**
 * One process's log: every line in a file (all incarnations of the process, appended), the newest lines in
 * memory for a test's failure report.
 */
export class ProcessLog {
  private readonly recent: string[] = [];
  private readonly file: WriteStream;

  constructor(
    readonly path: string,
    private readonly keep = 5000,
  ) {
    this.file = createWriteStream(path, { flags: 'a' });
  }

  /** The newest lines, as written. */
  get lines(): readonly string[] {
    return this.recent;
  }

  write(line: string): void {
    this.recent.push(line);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    this.file.write(`${line}\n`);
  }

  /** The last `count` lines, readable. */
  tail(count: number): string[] {
    return this.recent.slice(-count).map(formatLogLine);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(() => resolve()));
  }
}
