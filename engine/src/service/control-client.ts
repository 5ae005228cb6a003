/**
 * A Node client of the control API (the CLI and the tests use it): over the service's local socket,
 * or over loopback HTTP with the token. Errors come back revived as RemoteError with their code.
 */
import type { ControlEvents, ControlMethod, ControlRequests } from '../contract/control-api.ts';
import { postControl, streamControlEvents, type ControlEndpoint } from '../control/transport.ts';
import { EngineError } from '../errors/engine-error.ts';

export type { ControlEndpoint } from '../control/transport.ts';

/** An error the service reported, with its stable code. */
export class RemoteError extends EngineError {
  public override readonly name: string;
  public constructor(public readonly code: string, name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export function callControl<M extends ControlMethod>(endpoint: ControlEndpoint, method: M, args: Parameters<ControlRequests[M]>[0]): ReturnType<ControlRequests[M]> {
  return postControl(endpoint, method, args).then((envelope) => {
    if (envelope.error) throw new RemoteError(envelope.error.code, envelope.error.name, envelope.error.message);
    return envelope.result as never;
  }) as ReturnType<ControlRequests[M]>;
}

/** Subscribes to service events; returns a function that unsubscribes. */
export function subscribeControl(endpoint: ControlEndpoint, onEvent: <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => void): () => void {
  return streamControlEvents(endpoint, (line) => {
    const { event, data } = JSON.parse(line) as { event: keyof ControlEvents; data: never };
    onEvent(event, data);
  });
}

/** A typed proxy: `client.getStatus({})`. */
export function controlClient(endpoint: ControlEndpoint): ControlRequests {
  return new Proxy({} as ControlRequests, {
    get: (_target, method: string) => (args: never) => callControl(endpoint, method as ControlMethod, args),
  });
}
