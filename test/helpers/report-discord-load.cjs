// Preloaded into a child (node --require) to report whether discord.js was loaded: CommonJS
// packages land in the module cache however they were imported.
process.on('exit', () => {
  const loaded = Object.keys(require.cache).some((path) => path.includes('/node_modules/discord.js/'));
  require('node:fs').writeSync(2, `\nDOS_TEST_DISCORD_LOADED=${loaded}\n`);
});
