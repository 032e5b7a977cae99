import type { Router } from 'express';

/** A route an express router serves: an upper-case method and its path template (`/projects/:id`). */
export interface RouteSpec {
  method: string;
  path: string;
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
  /** Express 5: the layer was mounted at `/`. */
  slash?: boolean;
}

/**
 * Every route of a router (or of an express app, or a router mounted at `/` inside it), read from express's own
 * tables rather than written out by hand, so a route added later is covered by the tests that use this.
 */
export function routesOf(router: Router | { router?: unknown; _router?: unknown }, prefix = ''): RouteSpec[] {
  const holder = router as { stack?: LayerLike[]; router?: { stack?: LayerLike[] }; _router?: { stack?: LayerLike[] } };
  const stack = holder.stack ?? holder.router?.stack ?? holder._router?.stack;
  if (!stack) throw new Error('not an express router or app');
  return walk(stack, prefix);
}

function walk(stack: readonly LayerLike[], prefix: string): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const method of Object.keys(layer.route.methods)) {
        for (const path of paths) routes.push({ method: method.toUpperCase(), path: `${prefix}${path}` });
      }
    } else if (layer.handle?.stack && layer.slash) {
      routes.push(...walk(layer.handle.stack, prefix));
    }
  }
  return routes;
}

/** A path template with each `:param` replaced (by `values[param]`, else `fallback`), already URL-encoded. */
export function fillPath(template: string, values: Record<string, string>, fallback: string): string {
  return template.replace(/:([A-Za-z_]+)/g, (_m, name: string) => values[name] ?? fallback);
}
