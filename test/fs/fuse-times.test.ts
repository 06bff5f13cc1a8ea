import { describe, expect, it } from 'vitest';
import { fuseTimesFixed, requestedMtime } from '../../src/fs/fuse-times.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const ACCESSED = Date.parse('2020-01-01T00:00:00Z');
const MODIFIED = Date.parse('2021-06-07T08:09:10Z');

describe('utimens times from fuse-native', () => {
  it('the installed fuse-native is the build with dos\'s utimens patch (npm ci compiles it)', () => {
    expect(fuseTimesFixed()).toBe(true);
  });

  it('with the patched build, the modification time is the one asked for, even one from 1970', () => {
    expect(requestedMtime(ACCESSED, MODIFIED, true, NOW)).toBe(MODIFIED);
    expect(requestedMtime(ACCESSED, 1000, true, NOW)).toBe(1000);
  });

  it('a time before 1970 arrives wrapped around 2^64 (unsigned) and is stored as the negative time it is', () => {
    const sixties = Date.parse('1960-01-01T00:00:00Z');
    const got = requestedMtime(ACCESSED, 2 ** 64 + sixties, true, NOW); // as fuse-native builds it: a double near 2^64
    expect(Math.abs(got - sixties)).toBeLessThanOrEqual(2000);
    expect(Number.isInteger(got / 1000)).toBe(true);
    expect(new Date(requestedMtime(ACCESSED, 2 ** 64 - 3_600_000, true, NOW)).toISOString()).toMatch(/^1969-12-31T2[23]:/);
  });

  it('with the published binary (the access time in both arguments), the access time is the best guess', () => {
    expect(requestedMtime(ACCESSED, ACCESSED, false, NOW)).toBe(ACCESSED);
    expect(requestedMtime(1073, 1073, false, NOW)).toBe(NOW);
  });
});
