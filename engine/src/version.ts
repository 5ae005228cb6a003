/** The version of Directory Sync that is running: the package's version. */
import { readFileSync } from 'node:fs';

export const productVersion: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
