import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The text of the README section under `heading` (up to the next heading of the same or a higher level). */
export function readmeSection(repoRoot: string, heading: string): string {
  const lines = readFileSync(join(repoRoot, 'README.md'), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`README.md has no "${heading}"`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The shell commands of a section's ```sh blocks that start with `program`. */
export function readmeCommands(section: string, program: string): string[] {
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((block) => block[1]!.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith(`${program} `));
}
