/**
 * The responses an injected fault produces (429 with Retry-After, 500, 503).
 */
import { GraphHttpError } from './errors.ts';
import type { FaultRule } from './faults.ts';
import { throttledError } from './throttling.ts';

/** The Graph error a 429/500/503 fault returns (undefined for latency/drop). */
export function faultError(rule: FaultRule): GraphHttpError | undefined {
  switch (rule.mode) {
    case '429':
      return throttledError(rule.retryAfterSeconds ?? 1);
    case '500':
      return new GraphHttpError(500, 'UnknownError', 'An internal server error occurred (lab fault injection).');
    case '503':
      return new GraphHttpError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later (lab fault injection).',
        rule.retryAfterSeconds !== undefined ? { headers: { 'Retry-After': String(rule.retryAfterSeconds) } } : {});
    case 'latency':
    case 'drop':
      return undefined;
  }
}
