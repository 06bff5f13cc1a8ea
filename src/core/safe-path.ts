import { DosError, ErrorCodes } from './errors.js';

/** NAME_MAX of Linux, macOS and Windows file systems alike. */
export const MAX_NAME_BYTES = 255;

/**
 * Validates a relative path that came from somewhere we do not trust (a manifest, a Discord
 * attachment, a seed manifest) and returns its components. A path is refused when it is
 * empty, absolute, contains NUL, or has an empty, "." or ".." component, so joining it under a
 * destination folder can never leave that folder. Backslashes are refused too: on Windows
 * they are separators, and no file we write ever needs one in its name. A component longer
 * than file systems allow (255 bytes) is refused here, before any work, rather than by the
 * file system half-way through a restore.
 */
export function safeRelativeParts(path: string, what = 'path'): string[] {
  const refuse = (why: string): never => {
    throw new DosError(ErrorCodes.UNSAFE_PATH, `refusing unsafe ${what} ${JSON.stringify(path)}: ${why}`, { path });
  };
  if (typeof path !== 'string' || path.length === 0) refuse('it is empty');
  if (path.includes('\0')) refuse('it contains a NUL byte');
  if (path.includes('\\')) refuse('it contains a backslash');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) refuse('it is absolute');
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '') refuse('it has an empty component');
    if (part === '.' || part === '..') refuse(`it has a "${part}" component`);
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) refuse(`the name ${JSON.stringify(part.slice(0, 40))}… is longer than ${MAX_NAME_BYTES} bytes`);
  }
  return parts;
}

/** A single file or folder name (no separators at all), from an untrusted source. */
export function safeName(name: string, what = 'name'): string {
  const parts = safeRelativeParts(name, what);
  if (parts.length !== 1) {
    throw new DosError(ErrorCodes.UNSAFE_PATH, `refusing unsafe ${what} ${JSON.stringify(name)}: it contains a "/"`, { path: name });
  }
  return name;
}
