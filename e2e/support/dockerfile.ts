import { posix } from 'node:path';

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  op: string;
  /** The arguments as written (whitespace-separated, or the JSON array of the exec form). */
  args: string[];
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Parses the instructions of a Dockerfile into its stages (enough for checking COPY, RUN, CMD and USER). */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (pending === '' && /^\s*#/.test(line)) continue;
    const trimmed = line.trimEnd();
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + trimmed).trim();
    pending = '';
    if (whole !== '') logical.push(whole);
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const body = line.slice(op.length).trim();
    const args = body.startsWith('[') ? (JSON.parse(body) as string[]) : rest;
    if (op.toUpperCase() === 'FROM') {
      const as = args.findIndex((a) => a.toUpperCase() === 'AS');
      stages.push({
        name: as >= 0 ? (args[as + 1] ?? '') : String(stages.length),
        from: args[0] ?? '',
        instructions: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`instruction before FROM: ${line}`);
    stage.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  /** Where each source lands, relative to WORKDIR /app. */
  targets: Array<{ source: string; target: string }>;
}

/** The COPY instructions of a stage, with sources and targets as paths relative to `/app` (the WORKDIR). */
export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const flags = i.args.filter((a) => a.startsWith('--'));
      const paths = i.args.filter((a) => !a.startsWith('--'));
      const dest = paths.at(-1) ?? '';
      const sources = paths.slice(0, -1).map((s) => relative(s));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      const intoDirectory = dest.endsWith('/') || sources.length > 1 || dest === '.';
      const targets = sources.map((source) => ({
        source,
        target: intoDirectory ? posix.join(relative(dest), posix.basename(source)) : relative(dest),
      }));
      return { from, sources, targets };
    });
}

/** `/app/x/y` or `./x/y` or `x/y/` as `x/y`. */
export function relative(path: string): string {
  const stripped = path.replace(/^\/app\/?/, '').replace(/^\.\//, '');
  return posix.normalize(stripped === '' || stripped === '.' ? '.' : stripped).replace(/\/$/, '');
}

/** Whether `path` is `root` or lies under it. */
export function covers(root: string, path: string): boolean {
  return root === '.' || path === root || path.startsWith(`${root}/`);
}

/** A `.dockerignore` as a predicate (patterns with `*` and `**`, matching a path or any of its parents). */
export function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((pattern) => {
      const source = pattern
        .replace(/^\//, '')
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')))
        .join('/')
        .replace(/^\.\*\//, '(?:.*/)?');
      return new RegExp(`^${source}(?:/.*)?$`);
    });
  return (path) => patterns.some((p) => p.test(path));
}
