/**
 * Bundles the compiled CLI (dist/, from tsc) into dist/bundle/: a handful of files instead of
 * some 150 modules and their dependencies' hundreds. Node 20 spends most of a command's start-up
 * resolving and loading ESM modules (0.85 s before the first Discord request, 0.5 s bundled),
 * and it has no compile cache yet. tsc stays the type checker and emits dist/; this only
 * repackages its output.
 *
 * - Code splitting keeps lazy imports lazy: the Discord backend and the bot (discord.js) load
 *   only when used.
 * - The worker threads (frame-worker, seal-worker) are entries of their own, next to the chunks,
 *   where frame-opener and frame-sealer look for them.
 * - Native addons (better-sqlite3, fuse-native) and discord.js's optional native helpers stay
 *   external and load from node_modules.
 */
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: without this, every build would leave the last one's behind.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { main: 'dist/cli/main.js', 'frame-worker': 'dist/store/frame-worker.js', 'seal-worker': 'dist/store/seal-worker.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'fuse-native', 'zlib-sync', 'bufferutil', 'utf-8-validate'],
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __dosCreateRequire } from 'node:module'; const require = __dosCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
