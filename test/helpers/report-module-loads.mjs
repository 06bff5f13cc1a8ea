// Preloaded into a child (node --import) to install module-load-hook.mjs.
import { register } from 'node:module';

register('./module-load-hook.mjs', import.meta.url);
