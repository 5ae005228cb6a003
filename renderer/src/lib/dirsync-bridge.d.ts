/**
 * The preload bridge Electron exposes to the renderer (electron/src/preload): the same envelopes as
 * the HTTP transport. In browser mode it is absent and engine-client.ts uses fetch instead.
 */
export type DirSyncBridge = {
  /** Resolves to `{ result }` or `{ error: SerializedError }`, exactly like POST /api/<method>. */
  call(method: string, args: unknown): Promise<unknown>;
  /** Delivers every control event; returns the function that stops the delivery. */
  subscribe(listener: (event: string, data: unknown) => void): () => void;
};

declare global {
  interface Window {
    readonly dirsync?: DirSyncBridge;
  }
}
