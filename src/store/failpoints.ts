/**
 * Failpoints for crash tests: `DOS_FAILPOINT=name:N` makes the process kill itself with
 * SIGKILL the Nth time it passes `failpoint(name)` (N defaults to 1). This is how the tests
 * reproduce `kill -9` at exact points of an upload; unset, a failpoint costs one lookup.
 */
const counts = new Map<string, number>();

export function failpoint(name: string): void {
  const spec = process.env.DOS_FAILPOINT;
  if (!spec) return;
  const [wanted, nth] = spec.split(':');
  if (wanted !== name) return;
  const seen = (counts.get(name) ?? 0) + 1;
  counts.set(name, seen);
  if (seen >= Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}
