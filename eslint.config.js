// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What no file of the engine imports (a later block naming the same rule replaces it, so each repeats these). */
const ENGINE_WIDE = [
  { group: ['electron', 'electron/*'], message: 'engine/ never imports Electron.' },
  { group: ['react', 'react-dom', 'react-dom/*', 'react-router', '@fluentui/*'], message: 'engine/ never imports React.' },
];

// ESLint reads the default export of its config file (the one default export allowed, with vite.config.ts).
// eslint-disable-next-line no-restricted-syntax
export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.lab/**', 'test-output/**', 'renderer/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly',
        fetch: 'readonly', AbortController: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
        window: 'readonly', document: 'readonly',
      },
    },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'No default exports (house style): use a named export.' },
      ],
    },
  },
  // Size limits, set where the code stands (not above it): a function you have to scroll is two functions.
  // Lower them as code is split; never raise them to let a function grow. Tests (describe blocks) and
  // fixtures are exempt.
  {
    files: ['engine/src/**/*.ts', 'electron/src/**/*.ts', 'renderer/src/**/*.{ts,tsx}', 'lab/tenant/**/*.ts', 'lab/samba/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 200, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true, ignoreComments: true }],
    },
  },
  {
    files: ['engine/src/**/*.ts', 'electron/src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    // The big pages (Microsoft Entra, Finished, Operations) are a page and its parts (`*-parts.tsx`).
    files: ['renderer/src/**/*.{ts,tsx}'],
    rules: { 'max-lines-per-function': ['error', { max: 155, skipBlankLines: true, skipComments: true }] },
  },
  {
    // The emulated tenant's server and seed: one function each that wires the routes or builds the tenant.
    files: ['lab/tenant/**/*.ts', 'lab/samba/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 205, skipBlankLines: true, skipComments: true }] },
  },
  // Layer rules (house-style.md). DO NOT RELAX: they keep the engine, the shell and the UI apart.
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto'], message: 'renderer/ never imports Node.' },
          { group: ['electron', 'electron/*'], message: 'renderer/ never imports Electron: use lib/engine-client.ts.' },
          { group: ['**/engine/src/*', '!**/engine/src/contract', '**/engine/src/*/**', '!**/engine/src/contract/**'], message: 'renderer/ may only import the contract, with import type.' },
          { group: ['**/engine/src/contract/**', '**/engine/src/contract'], allowTypeImports: true, message: 'Import the contract with `import type` only.' },
        ],
      }],
    },
  },
  {
    // The renderer's unit tests run in Node (node:test): Node's test and assert modules only; the rest of the rules stand.
    files: ['renderer/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', '!node:test', '!node:assert', '!node:assert/strict', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto'], message: 'renderer tests import only node:test and node:assert.' },
          { group: ['electron', 'electron/*'], message: 'renderer/ never imports Electron: use lib/engine-client.ts.' },
          { group: ['**/engine/src/*', '!**/engine/src/contract', '**/engine/src/*/**', '!**/engine/src/contract/**'], message: 'renderer/ may only import the contract, with import type.' },
          { group: ['**/engine/src/contract/**', '**/engine/src/contract'], allowTypeImports: true, message: 'Import the contract with `import type` only.' },
        ],
      }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'react-dom/*', 'react-router', '@fluentui/*'], message: 'electron/ never imports React.' },
          { group: ['**/engine/src/*', '!**/engine/src/contract', '!**/engine/src/control', '!**/engine/src/base', '**/engine/src/*/**', '!**/engine/src/contract/**',
            '!**/engine/src/control/**', '!**/engine/src/base/locations.ts'],
            message: 'electron/ may only import the contract (with import type), the control transport and the locations of an installation.' },
          { group: ['**/engine/src/contract/**', '**/engine/src/contract'], allowTypeImports: true, message: 'Import the contract with `import type` only.' },
        ],
      }],
    },
  },
  {
    files: ['engine/**/*.ts', 'lab/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [...ENGINE_WIDE] }],
    },
  },
  {
    files: ['engine/src/contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'ldapts', 'better-sqlite3', '@azure/*', '@microsoft/*', 'electron', 'react'], message: 'The contract is types only: no Node, no DOM, no libraries.' },
          { group: ['../*', '../../*'], message: 'The contract imports nothing outside itself.' },
        ],
      }],
    },
  },
  // The engine's rooms, bottom to top: base (configuration, logging) and errors; store, ad, cloud (connectors);
  // run (the pipeline); service (the daemon) and diagnostics; cli. A room imports only from rooms below it.
  {
    files: ['engine/src/base/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          ...ENGINE_WIDE,
          { group: ['../store/*', '../ad/*', '../cloud/*', '../sync/*', '../run/*', '../service/*', '../diagnostics/*', '../cli/*'], message: 'base/ is below every other room of the engine (errors/ aside).' },
        ],
      }],
    },
  },
  {
    // The error classes and the mappers from each foreign source (ldapts, msal, Graph) sit with the connectors.
    files: ['engine/src/store/**/*.ts', 'engine/src/ad/**/*.ts', 'engine/src/cloud/**/*.ts', 'engine/src/errors/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          ...ENGINE_WIDE,
          { group: ['../run/*', '../service/*', '../diagnostics/*', '../cli/*'], message: 'The store, the connectors and the errors know nothing of the pipeline, the daemon or the CLI.' },
        ],
      }],
    },
  },
  {
    files: ['engine/src/run/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          ...ENGINE_WIDE,
          { group: ['../service/*', '../diagnostics/*', '../cli/*'], message: 'The run pipeline never imports the daemon (service/), diagnostics or the CLI: they use it.' },
        ],
      }],
    },
  },
  {
    files: ['engine/src/service/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          ...ENGINE_WIDE,
          { group: ['../cli/*'], message: 'The daemon never imports the CLI.' },
        ],
      }],
    },
  },
  {
    // What the Electron shell may import: Node and the contract only, so the shell never pulls in the engine.
    files: ['engine/src/control/**/*.ts', 'engine/src/base/locations.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          ...ENGINE_WIDE,
          { group: ['../*', '!../contract', '../*/**', '!../contract/**', '!./*'], message: 'The control transport and the locations import Node and the contract only: electron/ imports them.' },
        ],
      }],
    },
  },
  {
    files: ['engine/src/sync/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'ldapts', 'better-sqlite3', '@azure/*', '@microsoft/*', 'pino', 'electron', 'react'], message: 'engine/src/sync is pure: no I/O, receive values and return plans.' },
          { group: ['../store/*', '../ad/*', '../cloud/*', '../base/*', '../run/*', '../service/*', '../diagnostics/*', '../cli/*'], message: 'engine/src/sync is pure: it may import only ../contract and itself.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'Date', message: 'engine/src/sync gets the time passed in.' },
        { name: 'process', message: 'engine/src/sync is pure.' },
        { name: 'fetch', message: 'engine/src/sync is pure.' }],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'engine/src/sync takes no implicit randomness.' }],
    },
  },
);
