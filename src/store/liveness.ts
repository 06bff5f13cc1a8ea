import { hostname } from 'node:os';

/** When this process started: rows with its pid but older than this were written by another. */
const STARTED_AT_MS = Date.now() - process.uptime() * 1000;
/** Clock slack when comparing a row's time with this process's start. */
const SLACK_MS = 2000;

/**
 * Whether a process of this host is gone (its journal jobs and locks can be taken over).
 * `since`, when known, is when the row was written by that process: a row with this very
 * process's pid but written before it started belongs to an earlier process that had the same
 * pid. In a container every run of dos can be pid 1, and its predecessor's jobs and locks
 * must not look alive forever.
 */
export function isDeadProcess(pid: number, host: string, since?: number): boolean {
  if (host !== hostname()) return false; // cannot tell for another machine: assume alive
  if (pid === process.pid) return since !== undefined && since < STARTED_AT_MS - SLACK_MS;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
