// Node file I/O for the CLI: reading inputs with clear errors, atomic writes (temp file + rename).
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { IoError } from '../cli/framework.js';

export { IoError };

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  EBUSY: 'resource busy',
  ELOOP: 'too many symbolic links',
};

/** Short reason for a Node fs error: 'no such file', 'permission denied', 'is a directory', ... */
export function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) return REASONS[code] ?? code;
  return e instanceof Error ? e.message : String(e);
}

function ioError(verb: string, path: string, e: unknown, why = reason(e)): IoError {
  return new IoError(path === '-' ? `cannot ${verb} standard ${verb === 'read' ? 'input' : 'output'}: ${why}` : `cannot ${verb} '${path}': ${why}`, path, e);
}

/** Reads a whole file ('-' is standard input). Throws IoError "cannot read 'x.igvm': no such file". */
export function readInput(path: string): Uint8Array {
  try {
    const buf = readFileSync(path === '-' ? 0 : path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw ioError('read', path, e);
  }
}

/**
 * Like readInput, but the bytes are in a SharedArrayBuffer (read straight into it for regular files), so that worker
 * threads can read them without a copy (src/io/parallel-hash.ts). Same IoError messages as readInput.
 */
export function readInputShared(path: string): Uint8Array {
  let fd: number | undefined;
  try {
    if (path !== '-') {
      fd = openSync(path, 'r');
      const st = fstatSync(fd);
      if (st.isFile()) {
        const out = new Uint8Array(new SharedArrayBuffer(st.size));
        let off = 0;
        while (off < out.length) {
          const n = readSync(fd, out, off, Math.min(out.length - off, 1 << 30), null);
          if (n === 0) break; // the file shrank meanwhile
          off += n;
        }
        return off === out.length ? out : out.subarray(0, off);
      }
    }
  } catch (e) {
    throw ioError('read', path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  // Standard input, pipes, devices and directories (which fail here like in readInput): read, then copy.
  const data = readInput(path);
  const out = new Uint8Array(new SharedArrayBuffer(data.length));
  out.set(data);
  return out;
}

function tempName(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Writes `data` to a new file (which must not exist), fsyncs and closes it. */
function writeNew(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(path, 'wx');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // nothing more we can do
  }
}

/** Why writing `path` cannot work, checked before any data is written; undefined when it looks fine. */
function precheck(path: string): string | undefined {
  try {
    if (lstatSync(path).isDirectory()) return 'is a directory';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // a new file; the directory is checked by the write
    if (code === 'ENOTDIR') return 'not a directory';
  }
  return undefined;
}

/** Why a write into a missing directory failed: say so instead of 'no such file'. */
function writeReason(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'no such directory' : reason(e);
}

/**
 * Writes `path` atomically: the data goes to `path.<random>.tmp` in the same directory, which is then
 * renamed over `path`. On failure the temp file is removed, `path` is untouched, and IoError is thrown.
 */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  writeAtomicMany([{ path, data }]);
}

export interface OutputFile {
  path: string;
  data: Uint8Array | string;
}

/**
 * Writes several files all-or-none: every temp file is written first, then all are renamed.
 * If any write fails, all temps are removed and no target is touched. Should a rename fail after
 * others succeeded (practically only on a race), targets that did not exist before are removed again.
 */
export function writeAtomicMany(entries: readonly OutputFile[]): void {
  const seen = new Set<string>();
  for (const { path } of entries) {
    if (seen.has(path)) throw new IoError(`cannot write '${path}': given more than once`, path);
    seen.add(path);
    const why = precheck(path);
    if (why !== undefined) throw new IoError(`cannot write '${path}': ${why}`, path);
  }
  const temps: { path: string; temp: string; existed: boolean }[] = [];
  try {
    for (const { path, data } of entries) {
      const temp = tempName(path);
      try {
        writeNew(temp, data);
      } catch (e) {
        removeQuietly(temp);
        throw ioError('write', path, e, writeReason(e));
      }
      temps.push({ path, temp, existed: exists(path) });
    }
  } catch (e) {
    for (const t of temps) removeQuietly(t.temp);
    throw e;
  }
  let renamed = 0;
  try {
    for (const t of temps) {
      try {
        renameSync(t.temp, t.path);
      } catch (e) {
        throw ioError('write', t.path, e, writeReason(e));
      }
      renamed++;
    }
  } catch (e) {
    for (const t of temps.slice(renamed)) removeQuietly(t.temp);
    for (const t of temps.slice(0, renamed)) if (!t.existed) removeQuietly(t.path);
    throw e;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates a directory (and parents) if missing. Throws IoError "cannot create directory 'x': not a directory". */
export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new IoError(`cannot create directory '${path}': ${code === 'EEXIST' ? 'not a directory' : reason(e)}`, path, e);
  }
}
