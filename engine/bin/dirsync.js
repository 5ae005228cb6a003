#!/usr/bin/env node
// The `dirsync` command: loads the TypeScript CLI through tsx (installed with the package).
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
