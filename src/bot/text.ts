import type { Level } from './access.js';

/** Discord's limit for message content. */
export const MESSAGE_LIMIT = 2000;

export interface CommandHelp {
  name: string;
  usage: string;
  description: string;
  level: Level;
}

/** The command list, one Markdown bullet per command (the seed's unknown-command reply). */
export function commandList(commands: readonly CommandHelp[]): string {
  return commands.map((c) => `- \`${c.usage}\`${c.level === 'admin' ? ' (admin)' : ''}: ${c.description}`).join('\n');
}

export function invalidCommand(commands: readonly CommandHelp[]): string {
  return fit(`⚠️ **Invalid command.**\nUse one of the commands below:\n${commandList(commands)}`);
}

/** `!help`: what the seed said, minus local paths and the long-gone lot_history.json. */
export function helpText(commands: readonly CommandHelp[]): string {
  return fit([
    '📖 **dos — Discord Object Store bot**',
    'Archives the server owner\'s upload folder into this server (encrypted, compressed, deduplicated) and restores archives into their download folder. Every archive has a card in the archive channel.',
    '',
    '**Commands**',
    commandList(commands),
    '',
    'Archive ids look like `#DDMMYY-NN` (for example `#120225-07`); `120225-7` works too. `!download` also takes lot numbers: `!download 3 7` fetches lots 3 to 7.',
    '',
    '**Tips**',
    '- `!archives <words>` finds an archive by id, name or date.',
    '- An interrupted `!upload` continues with `!resume`; an interrupted `!download` continues when run again.',
    '- Slash commands work too: `/dos help`.',
  ].join('\n'));
}

/**
 * Keeps a reply within Discord's 2000 characters: whole lines are kept while they fit, then a
 * note says how many were left out.
 */
export function fit(text: string, limit = MESSAGE_LIMIT): string {
  if (text.length <= limit) return text;
  const lines = text.split('\n');
  const kept: string[] = [];
  let length = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const note = `\n… ${lines.length - i} more line(s) not shown`;
    if (length + line.length + 1 + note.length > limit) {
      kept.push(note.slice(1));
      break;
    }
    kept.push(line.length > limit - note.length ? `${line.slice(0, limit - note.length - 2)}…` : line);
    length += line.length + 1;
  }
  return kept.join('\n').slice(0, limit);
}

/** Text from the archive (names) inside our Markdown: no formatting, no mentions, one line. */
export function plain(text: string, max = 80): string {
  const one = text.replace(/[\r\n\t]+/g, ' ').replace(/[\\`*_~|>[\]]/g, (c) => `\\${c}`).replace(/@/g, '@\u200b');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
