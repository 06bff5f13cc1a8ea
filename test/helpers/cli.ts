import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DOS_BIN = fileURLToPath(new URL('../../dist/bundle/main.js', import.meta.url));

export interface DosRun {
  code: number;
  /** Set when the process was killed (a failpoint's SIGKILL). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `dos` binary (what `npx dos` runs) with a clean environment: only what the test
 * gives, so a developer's own DISCORD_BOT_TOKEN or USER_KEY never leaks in.
 */
export function runDos(args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<DosRun> {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [DOS_BIN, ...args], { env: clean, cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, signal: (error?.signal as NodeJS.Signals | undefined) ?? null, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}
