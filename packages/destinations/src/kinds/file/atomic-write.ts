import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `content` so that a reader sees the old file or the new one, never an empty or partial one:
 * a temporary file in the same directory (mode 0600, created exclusively), fsync, rename over the target, fsync of
 * the directory so the rename survives a crash.
 */
export async function writeFileAtomically(path: string, content: string): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', 0o600);
  let renamed = false;
  try {
    try {
      await file.chmod(0o600);
      await file.writeFile(content, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    renamed = true;
    const dir = await open(directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } finally {
    if (!renamed) await unlink(temporary).catch(() => undefined);
  }
}
