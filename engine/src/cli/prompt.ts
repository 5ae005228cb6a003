/**
 * Asking the administrator for a passphrase on the terminal, without echoing it. Scripts give it in
 * an environment variable instead; without either, the command fails saying which variable to set.
 */
import { createInterface } from 'node:readline';
import { ConfigError } from '../errors/config-error.ts';

function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (text: string) => void };
    let muted = false;
    output._writeToOutput = (text: string) => {
      if (!muted || text.includes('\n')) process.stderr.write(muted ? '\n' : text);
    };
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
    muted = true;
  });
}

/** The passphrase from `envName`, else typed (twice when `confirm`) on a terminal. */
export async function readPassphrase(envName: string, purpose: string, confirm: boolean): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    throw new ConfigError(`${purpose} needs a passphrase: set ${envName}, or run the command in a terminal to type it.`);
  }
  const first = await askHidden(`Passphrase (${purpose}): `);
  if (!confirm) return first;
  const second = await askHidden('The same passphrase again: ');
  if (first !== second) throw new ConfigError('The two passphrases differ: nothing was written. Run the command again.');
  return first;
}
