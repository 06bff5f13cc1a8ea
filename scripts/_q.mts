import { makeCorpus } from '/work/main/scripts/corpus.js';
import { LocalBackend } from '/work/main/src/backends/local/local-backend.js';
import { initStore } from '/work/main/src/store/open-store.js';
import { existsSync, rmSync } from 'node:fs';
const corpus = '/tmp/benchc/corpus';
if (!existsSync(corpus)) makeCorpus(corpus);
for (const q of [4]) {
  rmSync('/tmp/benchc/home', { recursive: true, force: true });
  const store = await initStore({ backend: new LocalBackend('/tmp/benchc/home/store'), indexPath: '/tmp/benchc/home/index.db', userKey: 'x', scrypt: { logN: 10, r: 8, p: 1 }, compression: { quality: q } });
  const t = process.hrtime.bigint(); const cpu0 = process.cpuUsage();
  const r = await store.put([corpus]);
  const s = Number(process.hrtime.bigint() - t) / 1e9; const cpu = process.cpuUsage(cpu0);
  console.log(`q${q}: ${(r.bytes / 1e6 / s).toFixed(1)} MB/s, ratio ${(r.storedBytes / r.bytes).toFixed(3)}, ${r.attachments} att, ${s.toFixed(2)} s, cpu user ${(cpu.user/1e6).toFixed(2)} sys ${(cpu.system/1e6).toFixed(2)}`);
  await store.close();
}
