/**
 * The one error base class of the engine: a stable `code` that callers branch on, and a message
 * that tells the administrator what to do. One subclass per failure kind, each in its own file.
 */
export abstract class EngineError extends Error {
  public abstract readonly code: string;

  /** Errors cross process boundaries (IPC, HTTP) in this explicit shape. */
  public toJSON(): { $isError: true; name: string; code: string; message: string } {
    return { $isError: true, name: this.name, code: this.code, message: this.message };
  }
}
