import { hostname } from 'node:os';

/** Whether a process of this host is gone (its journal jobs and locks can be taken over). */
export function isDeadProcess(pid: number, host: string): boolean {
  if (host !== hostname()) return false; // cannot tell for another machine: assume alive
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
