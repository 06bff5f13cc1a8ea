// Module customization hook (node:module register): reports every ES module a child loads on
// stderr, so a test can see which parts of the bundle a command pulled in.
import { writeSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  writeSync(2, `\nDOS_TEST_LOADED=${url}\n`);
  return nextLoad(url, context);
}
