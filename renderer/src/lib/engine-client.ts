/**
 * The only file that talks to the Directory Synchronization Service. In Electron it goes through the
 * preload bridge (window.dirsync); in browser mode it calls the service's loopback server with the
 * token the service put in the address (`?token=…`), which is kept in sessionStorage and removed
 * from the address bar. Errors come back as `{ $isError, name, code, message }` and are revived as
 * ControlError, so pages branch on `code`, never on message text.
 */
import type { ControlArgs, ControlEvents, ControlMethod, ControlResult, SerializedError } from '../../../engine/src/contract/control-api.ts';

/** An error the service reported (or a transport failure, code `transport`). */
export class ControlError extends Error {
  public constructor(
    public override readonly name: string,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type ControlEventListener = <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => void;

const TOKEN_KEY = 'dirsync.token';

let cachedToken: string | undefined;

/** Reads the token from the address once, keeps it for this tab, and removes it from the address bar. */
function browserToken(): string {
  if (cachedToken !== undefined) return cachedToken;
  const params = new URLSearchParams(window.location.search);
  const fromAddress = params.get('token');
  if (fromAddress) {
    window.sessionStorage.setItem(TOKEN_KEY, fromAddress);
    params.delete('token');
    const search = params.toString();
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${search ? `?${search}` : ''}${window.location.hash}`);
  }
  cachedToken = fromAddress ?? window.sessionStorage.getItem(TOKEN_KEY) ?? '';
  return cachedToken;
}

type DirSyncBridge = NonNullable<Window['dirsync']>;

function bridge(): DirSyncBridge | undefined {
  return typeof window.dirsync?.call === 'function' ? window.dirsync : undefined;
}

function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && (value as { $isError?: unknown }).$isError === true;
}

function unwrap<M extends ControlMethod>(method: M, envelope: unknown): ControlResult<M> {
  if (typeof envelope === 'object' && envelope !== null) {
    const { error, result } = envelope as { error?: unknown; result?: unknown };
    if (isSerializedError(error)) throw new ControlError(error.name, error.code, error.message);
    if ('result' in envelope) return result as ControlResult<M>;
  }
  throw new ControlError('TransportError', 'transport', `The service sent an answer to ${method} that is not a control API envelope.`);
}

/** Reads the token now (call once at start-up) so that it leaves the address bar before anything else runs. */
export function initEngineClient(): void {
  if (!bridge()) browserToken();
}

/** Calls one control API method; rejects with ControlError. */
export async function call<M extends ControlMethod>(method: M, args: ControlArgs<M>): Promise<ControlResult<M>> {
  const ipc = bridge();
  if (ipc) return unwrap(method, await ipc.call(method, args));
  let response: Response;
  try {
    response = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${browserToken()}` },
      body: JSON.stringify(args),
    });
  } catch (error) {
    throw new ControlError('TransportError', 'transport', `The Directory Sync service did not answer (${(error as Error).message}). Check that it is running.`);
  }
  let envelope: unknown;
  try {
    envelope = await response.json();
  } catch {
    throw new ControlError('TransportError', 'transport', `The service answered ${method} with HTTP ${response.status} and no readable body.`);
  }
  return unwrap(method, envelope);
}

/**
 * Delivers the service's events until the returned function is called. When the stream cannot be
 * opened or breaks (the service stopped), onError hears of it once; without onError that is a bug.
 */
type Subscriber = { readonly deliver: (event: string, data: unknown) => void; readonly onError?: (error: ControlError) => void };

/**
 * Browser mode keeps one event stream per page, shared by every subscriber and never aborted: a page
 * that stops listening just leaves the set (an aborted fetch would show as a failed request). When
 * the stream breaks, its subscribers hear why, and the next subscription opens a new one.
 */
const subscribers = new Set<Subscriber>();
let streamOpen = false;

function openEventStream(): void {
  if (streamOpen) return;
  streamOpen = true;
  let reader: ReadableStreamDefaultReader<string> | undefined;
  void (async () => {
    const response = await fetch('/api/events', { headers: { authorization: `Bearer ${browserToken()}` } });
    if (!response.ok || !response.body) throw new ControlError('TransportError', 'transport', `The service refused the event stream (HTTP ${response.status}).`);
    reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new ControlError('TransportError', 'transport', 'The service closed the event stream.');
      buffered += value;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const { event, data } = JSON.parse(line) as { event: string; data: unknown };
        for (const subscriber of [...subscribers]) {
          // One faulty listener must not break the stream for the others: its error surfaces on its own.
          try {
            subscriber.deliver(event, data);
          } catch (error) {
            queueMicrotask(() => { throw error; });
          }
        }
      }
    }
  })().catch((error: unknown) => {
    streamOpen = false;
    void reader?.cancel().catch(() => undefined);
    const failure = error instanceof ControlError ? error
      : new ControlError('TransportError', 'transport', `The event stream from the service broke (${(error as Error).message}).`);
    const listening = [...subscribers];
    subscribers.clear();
    for (const subscriber of listening) {
      if (!subscriber.onError) throw failure;
      subscriber.onError(failure);
    }
  });
}

export function subscribe(onEvent: ControlEventListener, onError?: (error: ControlError) => void): () => void {
  const deliver = (event: string, data: unknown) => onEvent(event as keyof ControlEvents, data as ControlEvents[keyof ControlEvents]);
  const ipc = bridge();
  if (ipc) return ipc.subscribe(deliver);
  const subscriber: Subscriber = { deliver, onError };
  subscribers.add(subscriber);
  openEventStream();
  return () => { subscribers.delete(subscriber); };
}

/** Expected errors (the service's, or the transport's) become page state; anything else is a bug and propagates. */
export function asControlError(error: unknown): ControlError {
  if (error instanceof ControlError) return error;
  throw error;
}
