/** Ends an exhaustive switch: the compiler proves it unreachable; at run time it is a bug. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
