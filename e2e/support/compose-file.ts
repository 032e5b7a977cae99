import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@hds/testkit';
import { load } from 'js-yaml';

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  restart?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const composeText = (): string => readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Every `${NAME…}` use in the file: its name and the default it gives (`${NAME:-default}`), if any. */
export function composeVariables(text: string): Array<{ name: string; fallback: string | undefined }> {
  return [...text.matchAll(VARIABLE)]
    .filter((m) => m[0] !== '$$')
    .map((m) => ({ name: (m[1] ?? m[4])!, fallback: m[2]?.endsWith('-') ? m[3] : undefined }));
}

/**
 * Compose's variable substitution, as `docker compose` does it with `vars` in `.env`: `${NAME}`, `$NAME`,
 * `${NAME:-default}` (unset or empty), `${NAME-default}` (unset), `$$` for a `$`.
 */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(VARIABLE, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = vars[name];
    if (op === ':-') return value === undefined || value === '' ? arg! : value;
    if (op === '-') return value ?? arg!;
    if ((op === ':?' && !value) || (op === '?' && value === undefined)) throw new Error(`${name}: ${arg}`);
    return value ?? '';
  });
}

/** docker-compose.yml as compose resolves it with `vars` (an `.env` file's content). */
export function loadCompose(vars: Record<string, string> = {}): ComposeFile {
  return load(interpolate(composeText(), vars)) as ComposeFile;
}

/**
 * The order compose v1 (docker-compose 1.29) gets services' images in for `up` (`sort_service_dicts` in its
 * project.py: a topological sort that takes services from the end of the file and puts each before its
 * dependents). A service without `build:` whose image is missing is pulled at its turn, so the service that
 * builds a shared image must come before every service that only names it.
 */
export function composeV1Order(services: Record<string, ComposeService>): string[] {
  const names = Object.keys(services);
  const dependents = (name: string) => names.filter((other) => name in (services[other]?.depends_on ?? {}));
  const unmarked = [...names];
  const sorted: string[] = [];
  const visit = (name: string) => {
    if (sorted.includes(name)) return;
    for (const dependent of dependents(name)) visit(dependent);
    unmarked.splice(unmarked.indexOf(name), 1);
    sorted.unshift(name);
  };
  while (unmarked.length > 0) visit(unmarked.at(-1)!);
  return sorted;
}
