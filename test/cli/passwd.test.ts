import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOS_BIN, runDos } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { noise, snapshot, writeTree } from '../helpers/trees.js';

const OLD = 'the old passphrase';
const NEW = 'a brand new passphrase';

beforeAll(() => {
  if (!existsSync(DOS_BIN)) throw new Error(`${DOS_BIN} is missing: run "npm run build" first (npm test does)`);
});

function setup() {
  const home = tempDir('dos-passwd-home-');
  const cwd = tempDir('dos-passwd-cwd-');
  const src = tempDir('dos-passwd-src-');
  writeTree(src, { 'notes.txt': 'dear diary\n', 'photo.jpg': noise(1_500_000, 5) });
  const dos = (args: string[], env: Record<string, string | undefined>) => runDos(args, { DOS_HOME: home, ...env }, cwd);
  const keyring = () => readFileSync(join(home, 'store', 'keyring.json'));
  return { home, cwd, src, dos, keyring };
}

/** Every pack's name and sha256: what "no data moves" means. */
function packDigests(home: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name !== 'keyring.json') out[path.slice(home.length)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(join(home, 'store'));
  return out;
}

describe('dos passwd', () => {
  it('changes the passphrase without moving data: the old one is refused, the new one restores every byte', async () => {
    const { home, cwd, src, dos, keyring } = setup();
    expect((await dos(['put', src, '--name', 'diary'], { USER_KEY: OLD })).code).toBe(0);
    const packsBefore = packDigests(home);
    const before = JSON.parse(keyring().toString()) as { storeId: string; kdf: { salt: string; logN: number } };

    const changed = await dos(['passwd', '--json'], { USER_KEY: OLD, NEW_USER_KEY: NEW });
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ storeId: before.storeId, kdf: { logN: 17, r: 8, p: 1 }, seedArchivesOnOldKey: 0 });

    const after = JSON.parse(keyring().toString()) as typeof before;
    expect(after.storeId).toBe(before.storeId);
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect(packDigests(home)).toEqual(packsBefore);

    const refused = await dos(['ls'], { USER_KEY: OLD });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/USER_KEY does not match this store/);
    const got = await dos(['get', 'diary', 'out'], { USER_KEY: NEW });
    expect(got.code, got.stderr).toBe(0);
    expect(snapshot(join(cwd, 'out'))).toEqual(snapshot(src));
    // And a new put under the new passphrase shares the store with the old archive.
    expect((await dos(['put', src, '--name', 'again'], { USER_KEY: NEW })).code).toBe(0);
    expect((await dos(['verify', '--all', '--deep'], { USER_KEY: NEW })).code).toBe(0);
  });

  it('changes nothing when it cannot: a wrong current passphrase, the same one again, no new one and no terminal, an unencrypted store', async () => {
    const { src, dos, keyring } = setup();
    expect((await dos(['put', src], { USER_KEY: OLD })).code).toBe(0);
    const original = keyring();

    const wrong = await dos(['passwd'], { USER_KEY: 'not it', NEW_USER_KEY: NEW });
    expect(wrong.code).toBe(5);
    const same = await dos(['passwd'], { USER_KEY: OLD, NEW_USER_KEY: OLD });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/same as the current one/);
    const noNew = await dos(['passwd'], { USER_KEY: OLD });
    expect(noNew.code).toBe(2);
    expect(noNew.stderr).toMatch(/set NEW_USER_KEY, or run dos passwd in a terminal/);
    const noKey = await dos(['passwd'], { NEW_USER_KEY: NEW });
    expect(noKey.code).toBe(5);
    expect(keyring().equals(original)).toBe(true);

    const plain = setup();
    expect((await plain.dos(['init', '--no-encryption'], {})).code).toBe(0);
    const unencrypted = plain.keyring();
    const refused = await plain.dos(['passwd'], { NEW_USER_KEY: NEW });
    expect(refused.code).toBe(10);
    expect(refused.stderr).toMatch(/created with --no-encryption/);
    expect(plain.keyring().equals(unencrypted)).toBe(true);
  });

  it('on a terminal, asks for the new passphrase twice without echoing it; two different answers change nothing', async () => {
    const { src, dos, keyring, home } = setup();
    expect((await dos(['put', src, '--name', 'diary'], { USER_KEY: OLD })).code).toBe(0);
    const original = keyring();

    const mismatch = await onTerminal(home, ['first try', 'second try']);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.output).toMatch(/the two passphrases differ; nothing was changed/);
    expect(keyring().equals(original)).toBe(true);

    const typed = await onTerminal(home, [NEW, NEW]);
    expect(typed.code, typed.output).toBe(0);
    expect(typed.output).toMatch(/passphrase changed for store/);
    expect(typed.output).not.toContain(NEW);
    expect((await dos(['ls'], { USER_KEY: NEW })).code).toBe(0);
  });
});

/**
 * Runs `dos passwd` on a pseudo-terminal (util-linux `script`), typing each answer once its
 * prompt has appeared, and returns what the terminal showed.
 */
function onTerminal(home: string, answers: string[]): Promise<{ code: number; output: string }> {
  const prompts = [/new passphrase:/, /the same again:/];
  return new Promise((resolve, reject) => {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(DOS_BIN)} passwd`;
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', DOS_HOME: home, USER_KEY: OLD },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let answered = 0;
    let seen = 0; // where the answered prompts end: the next one is looked for after it
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = answered < answers.length ? prompts[answered]!.exec(output.slice(seen)) : null;
      if (!match) return;
      seen += match.index + match[0].length;
      child.stdin.write(`${answers[answered++]}\r`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
