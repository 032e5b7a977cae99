/**
 * What a file destination writes (`format`): `raw` is the value and a newline (what Hasura's `dynamic_from_file`
 * and a mounted secret expect); `dotenv` rewrites only this variable's line and keeps every other line and comment;
 * `json` sets this variable's key in the file's object and keeps the other keys.
 */
export const FILE_FORMATS = ['raw', 'dotenv', 'json'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export function renderFile(input: {
  format: FileFormat;
  name: string;
  value: string;
  /** The file's current content, if it exists. */
  existing: string | undefined;
}): string {
  switch (input.format) {
    case 'raw':
      return `${input.value}\n`;
    case 'dotenv':
      return renderDotenv(input.existing ?? '', input.name, input.value);
    case 'json':
      return renderJson(input.existing, input.name, input.value);
    default:
      return input.format satisfies never;
  }
}

/** Characters a dotenv value may hold unquoted (URLs are made of them); anything else is double-quoted. */
const PLAIN_VALUE = /^[A-Za-z0-9_./:@%+=,?&~!*-]*$/;

export function dotenvLine(name: string, value: string): string {
  if (PLAIN_VALUE.test(value)) return `${name}=${value}`;
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `${name}="${escaped}"`;
}

/** `NAME=` or `export NAME=` at the start of a line (spaces allowed around), and what follows the `=`. */
const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/;

/**
 * Splits a dotenv file into entries of whole lines: an assignment whose double- or single-quoted value spans lines
 * is one entry, so rewriting a variable never leaves half of a multi-line value behind.
 */
function dotenvEntries(text: string): { name: string | undefined; lines: string[] }[] {
  const lines = text.split('\n');
  const entries: { name: string | undefined; lines: string[] }[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const match = ASSIGNMENT.exec(line);
    if (!match) {
      entries.push({ name: undefined, lines: [line] });
      continue;
    }
    const rest = match[2]!.trimStart();
    const quote = rest[0] === '"' || rest[0] === "'" ? rest[0] : undefined;
    const entry = { name: match[1], lines: [line] };
    if (quote && !closesQuote(rest.slice(1), quote)) {
      // The value goes on until a line that closes the quote (or the end of the file).
      while (i + 1 < lines.length) {
        i += 1;
        entry.lines.push(lines[i]!);
        if (closesQuote(lines[i]!, quote)) break;
      }
    }
    entries.push(entry);
  }
  return entries;
}

function closesQuote(text: string, quote: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') i += 1;
    else if (text[i] === quote) return true;
  }
  return false;
}

function renderDotenv(existing: string, name: string, value: string): string {
  const line = dotenvLine(name, value);
  const entries = dotenvEntries(existing);
  let written = false;
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name !== name) {
      out.push(...entry.lines);
      continue;
    }
    // The first assignment of this variable is rewritten in place; any later one would override it, so it goes.
    if (!written) out.push(line);
    written = true;
  }
  if (!written) {
    // Appended before the trailing newline's empty "line", if the file ends with one.
    if (out.length > 0 && out[out.length - 1] === '') out.splice(out.length - 1, 0, line);
    else out.push(line, '');
  }
  const text = out.join('\n');
  return text.endsWith('\n') ? text : `${text}\n`;
}

function renderJson(existing: string | undefined, name: string, value: string): string {
  let object: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        object = parsed as Record<string, unknown>;
      }
    } catch {
      // Not JSON (anymore): it is replaced by an object holding this variable.
    }
  }
  return `${JSON.stringify({ ...object, [name]: value }, null, 2)}\n`;
}
