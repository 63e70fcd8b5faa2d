// Node I/O for igvmgen -acpi_dir: list the folder, compile the DSL sources with iasl in temp dirs (IGVMGEN.md §10.2).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { AcpiImage } from '../acpi/image.js';
import { IgvmError } from '../errors.js';
import { buildAcpiFromDsl, type DslFile } from '../igvmgen/acpi-dsl.js';

export interface AcpiDirOptions {
  /** The iasl executable (default: `iasl` on PATH). */
  iasl?: string;
}

const IASL_MISSING = "iasl not found: -acpi_dir DIR needs the ACPI compiler; install it with 'apt-get install acpica-tools'";

/**
 * AML file name iasl's output is read from. The original replaced every "dsl" in the whole path (so a folder
 * name containing "dsl" broke it); here the replacement is applied to the file name only, which keeps the
 * original's result for every folder it worked with. A file name with "dsl" before the extension still fails
 * as it did there (mydsl.dsl is read back as myaml.aml while iasl writes mydsl.aml).
 */
export function amlNameFor(dslName: string): string {
  return dslName.split('dsl').join('aml');
}

function outputText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Runs `iasl -f ./NAME` in `cwd` (the "./" keeps a name starting with "-" from reading as an option); the exit
 * status is ignored (as the original does) and the captured output returned for error messages.
 */
function runIasl(iasl: string, cwd: string, name: string, dir: string): string {
  try {
    const out = execFileSync(iasl, ['-f', `./${name}`], { cwd, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
    return outputText(out);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number | null; signal?: string | null; stdout?: unknown; stderr?: unknown };
    if (err.code === 'ENOENT') throw new IgvmError('iasl-missing', IASL_MISSING, { file: dir });
    if (typeof err.status === 'number' || (err.signal && err.code !== 'ETIMEDOUT')) return outputText(err.stdout) + outputText(err.stderr);
    throw new IgvmError('iasl-failed', `could not run ${iasl} on ${name}: ${err.message}`, { file: dir });
  }
}

/**
 * Loads an ACPI folder as igvmgen's `-acpi_dir DIR` does: every `.dsl` is compiled with `iasl -f`, tables are
 * placed, the FACP/XSDT sources patched and recompiled, and the result packed into pages (§10.2).
 * Unlike the original, nothing is written into `dir`: the sources are copied into a fresh temp dir, the patched
 * FACP/XSDT compiled in a second one, and both are removed afterwards. Only the `.dsl` files are copied, so an
 * ASL `Include` of another file of the folder would not resolve (none of the known folders uses one).
 */
export function loadAcpiDir(dir: string, opts: AcpiDirOptions = {}): AcpiImage {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new IgvmError('acpi-dir', `no such ACPI folder`, { file: dir });
  }
  if (!isDir) throw new IgvmError('acpi-dir', `not a folder (-acpi_dir needs a folder of .dsl files)`, { file: dir });
  // Node's readdirSync returns names sorted (libuv sorts them); Python's os.listdir returns the raw directory
  // order. The order only matters when an RSDP with a non-zero XsdtAddress is listed after the XSDT (the XSDT
  // then stays at 0x100000) or when two files compile to the same signature (the later one wins).
  const listing = readdirSync(dir);
  const texts = new Map<string, string>();
  for (const name of listing) {
    if (!name.endsWith('.dsl')) continue;
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) throw new Error('not a regular file');
      // latin1: one char per byte, so any encoding survives the text patches byte for byte.
      texts.set(name, readFileSync(path, 'latin1'));
    } catch (e) {
      throw new IgvmError('acpi-dsl-read', `cannot read DSL source: ${(e as Error).message}`, { file: path });
    }
  }
  if (texts.size === 0) throw new IgvmError('acpi-no-dsl', `no .dsl files in the ACPI folder`, { file: dir });

  const iasl = opts.iasl ?? 'iasl';
  // A path (not a bare name looked up on PATH) that does not exist: report it before making temp dirs.
  if (opts.iasl !== undefined && /[\\/]/.test(opts.iasl) && !existsSync(opts.iasl)) throw new IgvmError('iasl-missing', IASL_MISSING, { file: dir });
  const temps: string[] = [];
  const logs = new Map<string, string>();
  const compile = (files: DslFile[]): Map<string, Uint8Array | undefined> => {
    // First call: the folder's sources; second call: the patched FACP and XSDT (the original's "-new" dir).
    const work = mkdtempSync(join(tmpdir(), temps.length === 0 ? 'igvmkit-iasl-' : 'igvmkit-iasl-new-'));
    temps.push(work);
    for (const f of files) writeFileSync(join(work, f.name), f.text, 'latin1');
    const result = new Map<string, Uint8Array | undefined>();
    // One iasl run per file, each AML read right after its run, in the given (listing) order, as the original.
    for (const f of files) {
      logs.set(f.name, runIasl(iasl, work, f.name, dir));
      const aml = join(work, amlNameFor(f.name));
      result.set(f.name, existsSync(aml) ? new Uint8Array(readFileSync(aml)) : undefined);
    }
    return result;
  };
  try {
    return buildAcpiFromDsl(listing, texts, compile, dir);
  } catch (e) {
    const name = e instanceof IgvmError && e.file !== undefined ? basename(e.file) : undefined;
    if (e instanceof IgvmError && e.code === 'acpi-no-aml' && name !== undefined && logs.has(name)) {
      const log = logs.get(name)!.trim();
      const shown = log.length > 4000 ? '…' + log.slice(-4000) : log;
      throw new IgvmError(e.code, `${e.message} (expected ${amlNameFor(name)}); iasl output:\n${shown || '(none)'}`, { file: join(dir, name) });
    }
    throw e;
  } finally {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  }
}
