// A module-resolution hook for the Electron shell's unit tests in plain Node: `electron` resolves to
// a recording stand-in of the few APIs the shell's main process calls (the real module is only a
// path to a binary that cannot be downloaded here). The Electron binary itself is tested by
// e2e/electron.test.ts where it exists.
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: new URL('./electron-standin.mjs', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
