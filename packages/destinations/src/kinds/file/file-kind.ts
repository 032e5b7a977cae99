import { constants } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { DestinationConfigError, type DestinationKind, type PrepareContext } from '../kind.js';
import { writeFileAtomically } from './atomic-write.js';
import { FileBusyError, withFileLock } from './file-lock.js';
import { FILE_FORMATS, renderFile } from './formats.js';
import { normalizeDestinationPath, resolveDestinationPath, UnsafePathError } from './safe-path.js';

const fileConfig = z.object({ path: z.string(), format: z.enum(FILE_FORMATS) });
const fileSecrets = z.object({}).strict();
const fileCreateInput = z.object({
  /** Relative to `FILE_DESTINATIONS_ROOT` (an absolute path inside it is accepted and stored relative). */
  path: z.string().min(1).max(1024),
  format: z.enum(FILE_FORMATS),
});

export type FileConfig = z.infer<typeof fileConfig>;
export type FileCreateInput = z.infer<typeof fileCreateInput>;
type FileSecrets = z.infer<typeof fileSecrets>;

/**
 * One write at a time per file in this process: `dotenv` and `json` read the file, change one variable and write it
 * back, so two deliveries to the same file must not interleave. Across processes, `withFileLock` does the same.
 */
const tails = new Map<string, Promise<unknown>>();
function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(path) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.catch(() => undefined);
  tails.set(path, tail);
  void tail.then(() => {
    if (tails.get(path) === tail) tails.delete(path);
  });
  return run;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A raw file holds one value: the one var the admin named, or the project's only var (pinned, so a var added later
 * does not take the file over). Anything else is refused: two vars would take turns overwriting the file.
 */
function rawFileVar(context: PrepareContext): string {
  if (context.vars !== null) {
    if (context.vars.length === 1) return context.vars[0]!;
    throw new DestinationConfigError(
      `a raw file holds one value: name one var in vars, not ${context.vars.length} (or use format dotenv or json)`,
    );
  }
  if (context.projectVars.length === 1) return context.projectVars[0]!;
  throw new DestinationConfigError(
    context.projectVars.length === 0
      ? 'a raw file holds one value: name the var it holds in vars'
      : `a raw file holds one value and this project has ${context.projectVars.length} vars ` +
          `(${context.projectVars.join(', ')}): name one in vars (or use format dotenv or json)`,
  );
}

/**
 * The `file` destination: writes a var's value, atomically, to a file under `root` (`FILE_DESTINATIONS_ROOT`), in
 * the `raw`, `dotenv` or `json` format. The path is checked when the destination is created and again before every
 * write (a symlink leading out that appeared since is refused). Nothing is written outside the root.
 */
export function createFileKind(options: { root: string }): DestinationKind<FileConfig, FileSecrets, FileCreateInput> {
  return {
    name: 'file',
    createInput: fileCreateInput,
    config: fileConfig,
    secrets: fileSecrets,
    async prepare({ input, context }) {
      try {
        const path = normalizeDestinationPath({ root: options.root, path: input.path });
        await resolveDestinationPath({ root: options.root, path });
        const config = { path, format: input.format };
        if (input.format !== 'raw') return { config, secrets: {} };
        return { config, secrets: {}, vars: [rawFileVar(context)] };
      } catch (err) {
        if (err instanceof UnsafePathError) throw new DestinationConfigError(err.message);
        throw err;
      }
    },
    async deliver({ config, delivery, logger }) {
      const started = performance.now();
      const latency = () => Math.round(performance.now() - started);
      try {
        const target = await resolveDestinationPath({ root: options.root, path: config.path });
        if (delivery.test) {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await access(dirname(target), constants.W_OK);
          return { outcome: 'delivered', latencyMs: latency() };
        }
        await withLock(target, async () => {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          // Checked again once the directories exist: nothing may have been swapped in on the way.
          const checked = await resolveDestinationPath({ root: options.root, path: config.path });
          await withFileLock(checked, logger, async () => {
            const existing = config.format === 'raw' ? undefined : await readIfPresent(checked);
            const content = renderFile({
              format: config.format,
              name: delivery.varName,
              value: delivery.value,
              existing,
            });
            await writeFileAtomically(checked, content);
          });
        });
        return { outcome: 'delivered', latencyMs: latency() };
      } catch (err) {
        if (err instanceof UnsafePathError) return { outcome: 'gave_up', error: err.message, latencyMs: latency() };
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        const why = err instanceof FileBusyError ? `${code} (${err.message})` : code;
        return { outcome: 'retry', error: `could not write ${config.path}: ${why}`, latencyMs: latency() };
      }
    },
  };
}
