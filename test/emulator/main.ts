/**
 * Runs the Discord emulator until SIGINT/SIGTERM and prints the environment for dos.
 *   npm run emulator -- [--port N] [--profile fast|realistic] [--tier 0-3] [--no-range] [--verbose]
 * Port: --port, else $DOS_EMULATOR_PORT, else 0 (a free port, printed).
 */
import { startEmulator } from './index.js';

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

const flag = (name: string): boolean => process.argv.slice(2).includes(name);

const portRaw = arg('--port') ?? process.env['DOS_EMULATOR_PORT'] ?? '0';
const port = Number(portRaw);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${portRaw}`);
  process.exit(2);
}
const profile = arg('--profile') === 'fast' ? 'fast' : 'realistic';
const tierRaw = Number(arg('--tier') ?? '0');
const tier = ([0, 1, 2, 3] as const).find((t) => t === tierRaw) ?? 0;
const verbose = flag('--verbose');

const emu = await startEmulator({
  port,
  profile,
  premiumTier: tier,
  cdn: { range: !flag('--no-range') },
  ...(process.env['DOS_EMULATOR_TOKEN'] ? { token: process.env['DOS_EMULATOR_TOKEN'] } : {}),
  ...(verbose ? { log: (line: string) => console.error(`[emulator] ${line}`) } : {}),
});

for (const [k, v] of Object.entries(emu.env())) console.log(`${k}=${v}`);
console.error(`[emulator] listening on ${emu.url} (port ${emu.port}, profile ${profile}, guild ${emu.guildId}); Ctrl-C to stop`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void emu.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
