import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Why a file destination's path was refused; the message is safe to show. */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

const MAX_PATH_LENGTH = 1024;

const inside = (root: string, candidate: string) => candidate === root || candidate.startsWith(`${root}${sep}`);

/**
 * A file destination's `path` as stored: relative to the root, `/`-separated, no `.` or empty segments. Refuses what
 * could lead outside the root by its text alone: `..` segments, absolute paths outside the root, NUL, backslashes
 * (a literal name on Linux, a separator elsewhere), and paths that name the root or end in `/`.
 */
export function normalizeDestinationPath(input: { root: string; path: string }): string {
  const { path } = input;
  const root = resolve(input.root);
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) {
    throw new UnsafePathError(`path must be 1 to ${MAX_PATH_LENGTH} characters`);
  }
  if (path.includes('\0')) throw new UnsafePathError('path must not contain NUL');
  if (path.includes('\\')) throw new UnsafePathError('path must use / as its separator, not \\');
  if (path.endsWith('/')) throw new UnsafePathError('path must name a file, not a directory');
  let relativePath = path;
  if (isAbsolute(path)) {
    const absolute = resolve(path);
    if (!inside(root, absolute) || absolute === root) {
      throw new UnsafePathError('an absolute path must be inside FILE_DESTINATIONS_ROOT');
    }
    relativePath = relative(root, absolute);
  }
  const segments = relativePath.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (path.split('/').includes('..')) throw new UnsafePathError('path must not contain ..');
  if (segments.length === 0) throw new UnsafePathError('path must name a file under FILE_DESTINATIONS_ROOT');
  return segments.join('/');
}

/**
 * Resolves a stored path against the root on disk, refusing symlinks that lead out: every component that exists
 * is looked at, and one that is a symlink must resolve inside the root; the file itself must not be a symlink at
 * all (the atomic rename would replace the link, not write where it points) and, if present, must be a regular
 * file. Returns the absolute path to write, under the root's real path. Run at creation and before every write.
 */
export async function resolveDestinationPath(input: { root: string; path: string }): Promise<string> {
  const relativePath = normalizeDestinationPath(input);
  let root: string;
  try {
    root = await realpath(input.root);
  } catch {
    throw new UnsafePathError('FILE_DESTINATIONS_ROOT does not exist');
  }
  const segments = relativePath.split('/');
  let current = root;
  for (const [index, segment] of segments.entries()) {
    const next = join(current, segment);
    const last = index === segments.length - 1;
    let stats;
    try {
      stats = await lstat(next);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // The rest does not exist yet: it is created under `current`, which is inside the root.
        return join(current, ...segments.slice(index));
      }
      throw err;
    }
    if (stats.isSymbolicLink()) {
      if (last) throw new UnsafePathError('path must not be a symlink');
      const target = await realpath(next).catch(() => undefined);
      if (target === undefined || !inside(root, target)) {
        throw new UnsafePathError('path goes through a symlink that leads outside FILE_DESTINATIONS_ROOT');
      }
      current = target;
      continue;
    }
    if (last && !stats.isFile()) throw new UnsafePathError('path names something that is not a regular file');
    if (!last && !stats.isDirectory()) throw new UnsafePathError('path goes through something that is not a directory');
    current = next;
  }
  return current;
}
