/**
 * Types shared by the Graph pipeline and its handlers.
 */
import type { Json } from './model.ts';
import type { Tenant } from './tenant.ts';

/** Who is calling: an application (client credentials) or a user through an application (delegated). */
export type Principal =
  | { readonly kind: 'app'; readonly appId: string; readonly servicePrincipalId: string; readonly roles: ReadonlySet<string> }
  | { readonly kind: 'user'; readonly appId: string; readonly userId: string; readonly scopes: ReadonlySet<string> };

export type GraphRequest = {
  readonly method: string;
  /** Path after `/v1.0`, e.g. `/users/abc`. */
  readonly path: string;
  readonly segments: ReadonlyArray<string>;
  readonly query: URLSearchParams;
  /** Query string without `?` as received (used to rebuild nextLinks). */
  readonly rawQuery: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Json | undefined;
};

export type GraphContext = {
  readonly req: GraphRequest;
  readonly tenant: Tenant;
  readonly principal: Principal;
  /** `https://127.0.0.1:PORT` as the client addressed it. */
  readonly baseUrl: string;
  /** `https://127.0.0.1:PORT/v1.0` */
  readonly graphUrl: string;
  /** `ConsistencyLevel: eventual` was sent. */
  readonly eventual: boolean;
  /** Advanced query: `ConsistencyLevel: eventual` and `$count=true`. */
  readonly advanced: boolean;
  readonly requestId: string;
  readonly clientRequestId: string;
};

export type GraphResult = {
  readonly status: number;
  readonly body?: Json;
  /** A text/plain body (`/$count`). */
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
};

export type Handler = (ctx: GraphContext, params: Readonly<Record<string, string>>) => GraphResult | Promise<GraphResult>;

/** Application permissions (roles) or delegated scopes that allow an operation (any of them). */
export type PermissionSpec = {
  readonly any: ReadonlyArray<string>;
  /** A write: delegated callers must also hold an administrator role. */
  readonly write?: boolean;
};
