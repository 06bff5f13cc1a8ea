// Preloaded into a child process (node --require) to report its peak memory on exit.
process.on('exit', () => {
  require('node:fs').writeSync(2, `\nDOS_TEST_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
