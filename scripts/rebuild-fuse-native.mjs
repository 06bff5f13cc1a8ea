/**
 * Compiles fuse-native from its (patched) source after `npm ci` / `npm install`.
 *
 * fuse-native 2.2.6 ships prebuilt binaries whose `utimens` passes the access time where the
 * modification time belongs; patches/fuse-native+2.2.6.patch (applied by patch-package just
 * before this runs) fixes it in the C source, and this builds that source. node-gyp-build then
 * loads build/Release ahead of the prebuilds. It takes a few seconds (one C file).
 *
 * A failed build does not fail the install: the mount still works with the prebuilt binary,
 * says so when it starts, and only times set through it (touch -m, cp -p, rsync -t) are off.
 * See native-notes/fuse.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let packageDir;
try {
  packageDir = dirname(require.resolve('fuse-native/package.json'));
} catch {
  process.exit(0); // not installed (an optional platform without FUSE): nothing to build
}

// npm runs lifecycle scripts with its bundled node-gyp in npm_config_node_gyp (and its nodedir
// setting, for machines without internet access to download Node's headers).
const npmNodeGyp = process.env.npm_config_node_gyp;
const [command, args] = npmNodeGyp && existsSync(npmNodeGyp) ? [process.execPath, [npmNodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(command, args, { cwd: packageDir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (result.status === 0 && existsSync(join(packageDir, 'build', 'Release', 'fuse.node'))) {
  console.log('rebuild-fuse-native: built fuse-native from source with the utimens fix');
} else {
  const why = result.error ? result.error.message : (result.stderr ?? '').trim().split('\n').slice(-3).join('\n');
  console.warn(`rebuild-fuse-native: could not build fuse-native (${why}); dos mount will use the prebuilt binary, whose utimens is wrong (see native-notes/fuse.md)`);
}
