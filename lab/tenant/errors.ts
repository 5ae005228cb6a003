/**
 * Graph error envelopes (graph-reference.md §1.1/§1.3) and the message catalogue shared by handlers.
 */
import type { JsonObject } from './model.ts';

export type ErrorDetail = { code: string; message?: string; target?: string };

/** Thrown by handlers; turned into the Graph error envelope by the pipeline. */
export class GraphHttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ReadonlyArray<ErrorDetail> | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** Extra innerError fields (the 429 body carries code/message/status there). */
  readonly innerExtra: JsonObject | undefined;

  constructor(status: number, code: string, message: string, options: {
    details?: ReadonlyArray<ErrorDetail>; headers?: Record<string, string>; innerExtra?: JsonObject;
  } = {}) {
    super(message);
    this.name = 'GraphHttpError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.innerExtra = options.innerExtra;
  }
}

/** `2024-08-20T04:25:57`: innerError.date has no timezone suffix. */
export function innerErrorDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19);
}

export function errorEnvelope(error: GraphHttpError, ids: { requestId: string; clientRequestId: string; now: number }): JsonObject {
  const inner: JsonObject = {
    date: innerErrorDate(ids.now),
    'request-id': ids.requestId,
    'client-request-id': ids.clientRequestId,
    ...(error.innerExtra ?? {}),
  };
  const body: JsonObject = { code: error.code, message: error.message };
  if (error.details && error.details.length > 0) {
    body['details'] = error.details.map((d) => {
      const entry: JsonObject = { code: d.code };
      if (d.message !== undefined) entry['message'] = d.message;
      if (d.target !== undefined) entry['target'] = d.target;
      entry['blockedWord'] = '';
      entry['prefix'] = '';
      entry['suffix'] = '';
      return entry;
    });
  }
  body['innerError'] = inner;
  return { error: body };
}

export function badRequest(message: string, details?: ReadonlyArray<ErrorDetail>): GraphHttpError {
  return new GraphHttpError(400, 'Request_BadRequest', message, details ? { details } : {});
}

/** The 404 Request_ResourceNotFound message (also what a lagging replica answers for an object it does not have yet). */
export function resourceNotFoundMessage(id: string): string {
  return `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;
}

export function notFound(id: string): GraphHttpError {
  return new GraphHttpError(404, 'Request_ResourceNotFound', resourceNotFoundMessage(id));
}

export function forbidden(message = 'Insufficient privileges to complete the operation.'): GraphHttpError {
  return new GraphHttpError(403, 'Authorization_RequestDenied', message);
}

export function unsupportedQuery(message: string): GraphHttpError {
  return new GraphHttpError(400, 'Request_UnsupportedQuery', message);
}

export function methodNotAllowed(): GraphHttpError {
  return new GraphHttpError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
}

export function segmentNotFound(segment: string): GraphHttpError {
  return new GraphHttpError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

export function objectConflict(property: string, conflictingId?: string, conflictingType?: string): GraphHttpError {
  const message = `Another object with the same value for property ${property} already exists.`;
  const details: ErrorDetail[] = [{ code: 'ObjectConflict', message, target: property }];
  if (conflictingId !== undefined) {
    details.push({ code: 'ConflictingObjects', message, target: `${conflictingType ?? 'User'}_${conflictingId}` });
  }
  return badRequest(message, details);
}

export function requiredProperty(property: string, resource: string): GraphHttpError {
  return badRequest(`A value is required for property '${property}' of resource '${resource}'.`);
}

export function invalidValue(property: string, resource: string): GraphHttpError {
  const message = `Invalid value specified for property '${property}' of resource '${resource}'.`;
  return badRequest(message, [{ code: 'InvalidValue', message, target: property }]);
}

export function unknownProperty(property: string): GraphHttpError {
  return badRequest(`Property '${property}' does not exist as a declared property or extension property.`);
}

export function readOnlyProperty(property: string): GraphHttpError {
  return badRequest(`Property '${property}' is read-only and cannot be set.`);
}

export const SYNCED_OBJECT_MESSAGE =
  'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.';

export function syncedObject(): GraphHttpError {
  return badRequest(SYNCED_OBJECT_MESSAGE);
}

export function advancedOperatorRequired(operator: string): GraphHttpError {
  return unsupportedQuery(`Operator '${operator}' is not supported because the required parameters might be missing. ` +
    'Try adding $count=true query parameter and ConsistencyLevel:eventual header. ' +
    'Refer to https://aka.ms/graph-docs/advanced-queries for more information');
}

export function unsupportedFilterProperty(property: string, resource: string): GraphHttpError {
  return unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`);
}
