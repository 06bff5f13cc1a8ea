import { describe, expect, it } from 'vitest';
import { decide, REFUSALS, screen, type AccessPolicy, type Actor } from '../../src/bot/access.js';
import { assertInside, downloadFolderOf, redactPaths } from '../../src/bot/folders.js';
import { parseArchiveArg, parseDownloadArg, selectRange } from '../../src/bot/targets.js';
import { fit } from '../../src/bot/text.js';

const GUILD = '100';
const policy = (more: Partial<AccessPolicy> = {}): AccessPolicy => ({ guildId: GUILD, allowedUsers: [], allowDms: false, ...more });
const member = (more: Partial<{ isAdmin: boolean; roleIds: string[]; roleNames: string[] }> = {}) => ({ isAdmin: false, roleIds: [], roleNames: [], ...more });
const actor = (more: Partial<Actor> = {}): Actor => ({ userId: '7', isBot: false, guildId: GUILD, member: member(), ...more });

describe('access decisions', () => {
  it('default: admins only', () => {
    expect(decide(actor({ member: member({ isAdmin: true }) }), 'user', policy())).toEqual({ allowed: true });
    expect(decide(actor(), 'user', policy())).toMatchObject({ allowed: false, reply: REFUSALS.user });
  });

  it('admin commands need admin whatever the allow-lists say', () => {
    const p = policy({ allowedRole: 'Archivists', allowedUsers: ['7'] });
    expect(decide(actor({ member: member({ roleNames: ['archivists'] }) }), 'admin', p)).toMatchObject({ allowed: false, reply: REFUSALS.admin });
    expect(decide(actor({ member: member({ isAdmin: true }) }), 'admin', p)).toEqual({ allowed: true });
  });

  it('the allowed role by id or (case-insensitive) name, and the user list', () => {
    expect(decide(actor({ member: member({ roleIds: ['55'], roleNames: ['x'] }) }), 'user', policy({ allowedRole: '55' })).allowed).toBe(true);
    expect(decide(actor({ member: member({ roleIds: ['55'], roleNames: ['Archivists'] }) }), 'user', policy({ allowedRole: 'archivists' })).allowed).toBe(true);
    expect(decide(actor({ member: member({ roleNames: ['Other'] }) }), 'user', policy({ allowedRole: 'archivists' })).allowed).toBe(false);
    expect(decide(actor({ userId: '7' }), 'user', policy({ allowedUsers: ['7'] })).allowed).toBe(true);
    expect(decide(actor({ userId: '8' }), 'user', policy({ allowedUsers: ['7'] })).allowed).toBe(false);
  });

  it('DMs are refused unless allowed, and then judged as the server member', () => {
    const dm = actor({ guildId: null, member: member({ isAdmin: true }) });
    expect(screen(dm, policy())).toMatchObject({ allowed: false, reply: REFUSALS.dm });
    expect(decide(dm, 'user', policy())).toMatchObject({ allowed: false, reply: REFUSALS.dm });
    expect(decide(dm, 'admin', policy({ allowDms: true }))).toEqual({ allowed: true });
    expect(decide(actor({ guildId: null, member: null }), 'user', policy({ allowDms: true }))).toMatchObject({ allowed: false, reply: REFUSALS.notMember });
  });

  it('other servers, bots and webhooks get no reply at all', () => {
    expect(decide(actor({ guildId: '999', member: member({ isAdmin: true }) }), 'user', policy())).toMatchObject({ allowed: false, reply: null });
    expect(decide(actor({ isBot: true, member: member({ isAdmin: true }) }), 'user', policy())).toMatchObject({ allowed: false, reply: null });
    expect(decide(actor({ isWebhook: true, member: member({ isAdmin: true }) }), 'user', policy())).toMatchObject({ allowed: false, reply: null });
  });
});

describe('arguments and folders', () => {
  it('only archive ids and lot numbers are accepted', () => {
    expect(parseArchiveArg('170126-7')).toBe('#170126-07');
    expect(parseDownloadArg('12')).toEqual({ kind: 'lot', lot: 12, text: '12' });
    for (const bad of ['../../etc', '/etc/passwd', '..', '#170126-07/..', 'a'.repeat(100), '1'.repeat(30), '-1', '']) {
      expect(() => parseDownloadArg(bad)).toThrow(/Invalid download target/);
      expect(() => parseArchiveArg(bad)).toThrow(/Invalid archive id/);
    }
  });

  it('ranges are inclusive, swapped when reversed, by id number', () => {
    const archives = ['#010126-01', '#020126-02', '#030126-03', '#030126-10'].map((id) => ({ id }));
    expect(selectRange(archives, parseDownloadArg('3'), parseDownloadArg('2')).map((a) => a.id)).toEqual(['#020126-02', '#030126-03']);
    expect(selectRange(archives, parseDownloadArg('#030126-3'), undefined).map((a) => a.id)).toEqual(['#030126-03']);
    expect(selectRange(archives, parseDownloadArg('#020126-02'), parseDownloadArg('10')).map((a) => a.id)).toEqual(['#020126-02', '#030126-03', '#030126-10']);
  });

  it('download folders come from normalised ids only and stay inside', () => {
    const folders = { upload: '/srv/up', download: '/srv/down', work: '/srv/work' };
    expect(downloadFolderOf(folders, '#170126-07')).toBe('/srv/down/[Archive] #170126-07');
    expect(() => downloadFolderOf(folders, '../x')).toThrow();
    expect(() => downloadFolderOf(folders, '170126-7')).toThrow();
    expect(() => assertInside('/srv/down', '/srv/down/../up')).toThrow();
    expect(() => assertInside('/srv/down', '/srv/down')).toThrow();
  });

  it('replies never show the host paths', () => {
    const folders = { upload: '/home/me/Up', download: '/home/me/Down', work: '/home/me/.dos/bot/work' };
    expect(redactPaths('/home/me/Down/[Archive] #1/a.txt already exists', folders)).toBe('<download folder>/[Archive] #1/a.txt already exists');
    expect(redactPaths('cannot read /var/lib/secret/file.bin now', folders)).toBe('cannot read …/file.bin now');
  });

  it('long replies are cut at whole lines within 2000 characters', () => {
    const text = Array.from({ length: 500 }, (_, i) => `#010126-${i} • ${'ü'.repeat(40)}`).join('\n');
    const out = fit(text);
    expect(out.length).toBeLessThanOrEqual(2000);
    expect(out).toMatch(/more line\(s\) not shown$/);
  });
});
