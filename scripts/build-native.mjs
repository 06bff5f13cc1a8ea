/**
 * Compiles dos's native parts after `npm ci` / `npm install` (package.json's postinstall). Each
 * is one C file and takes a few seconds; neither is required, so a failed build warns and the
 * install goes on.
 *
 * - fuse-native, from its patched source: the 2.2.6 prebuilt binaries' `utimens` passes the
 *   access time where the modification time belongs. patches/fuse-native+2.2.6.patch (applied by
 *   patch-package just before this runs) fixes it in the C source, and this builds that source;
 *   node-gyp-build then loads build/Release ahead of the prebuilds. Without it the mount works,
 *   says so when it starts, and only times set through it (touch -m, cp -p, rsync -t) are off.
 *   See native-notes/fuse.md.
 * - native/aes-gcm: AES-256-GCM through the system's libcrypto.so.3, about 3.5x node:crypto's
 *   speed here (see the comment at the top of native/aes-gcm/aes_gcm.c). Linux only. Without it
 *   dos uses node:crypto: the same bytes, slower.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `node-gyp rebuild` in `dir`; returns null on success, else why it failed. */
function nodeGypRebuild(dir, product) {
  // npm runs lifecycle scripts with its bundled node-gyp in npm_config_node_gyp (and its nodedir
  // setting, for machines without internet access to download Node's headers).
  const npmNodeGyp = process.env.npm_config_node_gyp;
  const [command, args] = npmNodeGyp && existsSync(npmNodeGyp) ? [process.execPath, [npmNodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
  const result = spawnSync(command, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status === 0 && existsSync(join(dir, 'build', 'Release', product))) return null;
  return result.error ? result.error.message : (result.stderr ?? '').trim().split('\n').slice(-3).join('\n');
}

function buildFuseNative() {
  let packageDir;
  try {
    packageDir = dirname(require.resolve('fuse-native/package.json'));
  } catch {
    return; // not installed (an optional platform without FUSE): nothing to build
  }
  const failure = nodeGypRebuild(packageDir, 'fuse.node');
  if (failure === null) console.log('build-native: built fuse-native from source with the utimens fix');
  else console.warn(`build-native: could not build fuse-native (${failure}); dos mount will use the prebuilt binary, whose utimens is wrong (see native-notes/fuse.md)`);
}

function buildAesGcm() {
  if (process.platform !== 'linux') return; // it loads libcrypto.so.3 by its Linux name
  const failure = nodeGypRebuild(join(repoRoot, 'native', 'aes-gcm'), 'dos_aes_gcm.node');
  if (failure === null) console.log('build-native: built native/aes-gcm (AES-256-GCM through the system libcrypto)');
  else console.warn(`build-native: could not build native/aes-gcm (${failure}); dos will use node:crypto's slower AES-GCM`);
}

buildFuseNative();
buildAesGcm();
