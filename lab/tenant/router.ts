/**
 * Path routing for Graph v1.0: patterns such as `groups/{id}/members/$ref`, OData key segments
 * (`users('a@b')`, `applications(appId='…')`) normalised to plain segments, literal segments winning
 * over parameters, 405 for a known path with another method.
 */
import type { GraphRequest, Handler, PermissionSpec } from './context.ts';
import { GraphHttpError, methodNotAllowed, segmentNotFound } from './errors.ts';
import type { ThrottleBudgets } from './throttling.ts';

export type RouteCost = {
  /** Base resource units (graph-reference.md §8.1 table; default 1). */
  readonly ru?: number;
  /** Write units (default 0 for GET, 1 otherwise); a function for body-dependent costs. */
  readonly write?: number | ((req: GraphRequest, budgets: ThrottleBudgets) => number);
};

export type Route = {
  readonly method: string;
  readonly pattern: ReadonlyArray<string>;
  readonly handler: Handler;
  readonly permission: PermissionSpec;
  readonly cost: RouteCost;
};

export type RouteMatch = { readonly route: Route; readonly params: Readonly<Record<string, string>> };

/** Splits a Graph path into decoded segments, expanding OData key syntax. */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch (error) {
      if (error instanceof URIError) throw new GraphHttpError(400, 'BadRequest', `Invalid URL segment '${raw}'.`);
      throw error;
    }
    const key = /^([A-Za-z.]+)\((.*)\)$/.exec(segment);
    if (key?.[1] && key[2] !== undefined) {
      out.push(key[1]);
      const named = /^([A-Za-z]+)\s*=\s*'(.*)'$/.exec(key[2]);
      if (named?.[1] && named[2] !== undefined) out.push(`${named[1]}=${named[2].replaceAll("''", "'")}`);
      else out.push(key[2].replace(/^'(.*)'$/, '$1').replaceAll("''", "'"));
    } else {
      out.push(segment);
    }
  }
  return out;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, permission: PermissionSpec, handler: Handler, cost: RouteCost = {}): void {
    this.routes.push({ method, pattern: pattern.split('/').filter((s) => s !== ''), handler, permission, cost });
  }

  match(method: string, segments: ReadonlyArray<string>): RouteMatch {
    let best: { score: number; matches: RouteMatch[] } | undefined;
    for (const route of this.routes) {
      if (route.pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let score = 0;
      let ok = true;
      route.pattern.forEach((p, i) => {
        const s = segments[i] ?? '';
        if (p.startsWith('{') && p.endsWith('}')) {
          params[p.slice(1, -1)] = s;
        } else if (p.toLowerCase() === s.toLowerCase()) {
          score += 1;
        } else {
          ok = false;
        }
      });
      if (!ok) continue;
      if (!best || score > best.score) best = { score, matches: [{ route, params }] };
      else if (score === best.score) best.matches.push({ route, params });
    }
    if (!best) throw segmentNotFound(this.firstUnknownSegment(segments));
    const found = best.matches.find((m) => m.route.method === method);
    if (!found) throw methodNotAllowed();
    return found;
  }

  private firstUnknownSegment(segments: ReadonlyArray<string>): string {
    for (let n = segments.length; n > 0; n -= 1) {
      const prefix = segments.slice(0, n);
      const known = this.routes.some((r) => r.pattern.length >= n && prefix.every((s, i) => {
        const p = r.pattern[i] ?? '';
        return (p.startsWith('{') && p.endsWith('}')) || p.toLowerCase() === s.toLowerCase();
      }));
      if (known) return segments[n] ?? segments[n - 1] ?? '';
    }
    return segments[0] ?? '';
  }
}
