// igvmgen generation run: inputs from the parsed options, ACPI source, signing key, outputs written all-or-none (IGVMGEN.md §1.3, §10, §11).
import { statSync } from 'node:fs';
import { IgvmError } from '../errors.js';
import type { AcpiImage } from '../acpi/image.js';
import { buildDefaultAcpi } from '../acpi/default.js';
import { decodeAcpiZip } from '../igvmgen/acpi-zip.js';
import { loadAcpiDir } from '../io/iasl.js';
import { readInput, writeAtomicMany, IoError, type OutputFile } from '../io/files.js';
import { parseEcPrivateKey, type EcPrivateKey } from '../crypto/ec-key.js';
import { randomP384Key } from '../snp/id-block.js';
import { parseTeiConfig } from '../snp/tei-config.js';
import { toHex } from '../bytes.js';
import { generateIgvmgen, DEFAULT_ID_BLOCK, type IdBlockValues, type Inform } from '../igvmgen/generate.js';
import type { NamedInput } from '../igvmgen/layout-bzimage.js';
import { measurementJson, measurementRepr } from '../igvmgen/measurement-file.js';
import { pythonInt, str2bool, LOG_LEVELS } from './igvmgen-args.js';

/** Converted option values: strings as given, input files already read (as argparse opens them). */
export interface GenValues {
  strings: ReadonlyMap<string, string>;
  files: ReadonlyMap<string, NamedInput>;
}

export interface RunOutput {
  stdout: string;
  stderr: string;
}

/** Thrown for user mistakes the original crashes on: one line, exit 2. */
export class InputError extends Error {}

/** Read a file named by `option` (outside argparse's FileType ones): an unreadable file is an input error (exit 2). */
function readOptionFile(option: string, path: string): Uint8Array {
  try {
    return readInput(path);
  } catch (e) {
    throw new InputError(`${option} ${path}: ${e instanceof IoError ? e.message.replace(/^cannot read '.*?': /, 'cannot read: ') : String(e)}`);
  }
}

function acpiFrom(path: string | undefined): AcpiImage {
  if (path === undefined) return buildDefaultAcpi({ vcpus: 1 });
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InputError(`-acpi_dir ${path}: no such file or directory (expected a folder of .dsl files or an acpi.zip snapshot)`);
  }
  if (isDir) return loadAcpiDir(path);
  const bytes = readOptionFile('-acpi_dir', path);
  try {
    return decodeAcpiZip(bytes, path);
  } catch (e) {
    if (!(e instanceof IgvmError)) throw e;
    // Offsets inside the decoded stream are not file offsets: leave them out.
    const details: { file: string; path?: string } = { file: path };
    if (e.path !== undefined) details.path = e.path;
    throw new IgvmError(e.code, `not a folder and not a valid acpi.zip snapshot (base64 of a zlib stream of a pickled {gpa: page} dict): ${e.message}`, details);
  }
}

function idBlockFrom(path: string | undefined): IdBlockValues {
  if (path === undefined) return DEFAULT_ID_BLOCK;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(readOptionFile('-config_file', path));
  const c = parseTeiConfig(text, path);
  return { familyId: c.familyId, imageId: c.imageId, version: c.version, guestSvn: c.guestSvn, policy: c.policy };
}

function intValue(v: GenValues, dest: string): bigint | undefined {
  const s = v.strings.get(dest);
  return s === undefined ? undefined : pythonInt(s);
}

function boolValue(v: GenValues, dest: string, dflt: boolean): boolean {
  const s = v.strings.get(dest);
  return s === undefined ? dflt : str2bool(s);
}

/** Run one generation; returns what to print. Throws InputError / IgvmError (exit 2) or IoError (exit 3). */
export function runGeneration(v: GenValues, outPath: string): RunOutput {
  const log: string[] = [];
  const warnings: string[] = [];
  const kernel = v.files.get('kernel');
  if (!kernel) throw new InputError('-kernel FILE is required to generate an image');
  const append = v.strings.get('append');
  if (append === undefined) throw new InputError('-append STR is required (the kernel command line; use -append "" for none)');
  const inform = (v.strings.get('inform') ?? 'bzImage') as Inform;
  const bootMode = (v.strings.get('boot_mode') ?? 'x86') as 'x86' | 'x64';
  const vtl = intValue(v, 'vtl') ?? 2n;
  const pgtable = intValue(v, 'pgtable_level');
  if (inform === 'bzImage2' && !v.files.has('shared_payload')) throw new InputError('-inform bzImage2 needs -shared_payload FILE');
  if (inform === 'elf' && bootMode === 'x64' && pgtable === undefined) throw new InputError('-inform elf -boot_mode x64 needs -pgtable_level 2 or 4');
  if (inform === 'elf' && bootMode === 'x64' && pgtable !== 2n && pgtable !== 4n) throw new InputError(`-pgtable_level ${pgtable}: expected 2 or 4`);

  const highestVtl = Number(BigInt.asUintN(8, vtl));
  if (highestVtl !== 0 && highestVtl !== 2) {
    warnings.push(`igvmgen: warning: -vtl ${v.strings.get('vtl') ?? ''} gives HighestVtl ${highestVtl}; SEV-SNP allows only 0 or 2, so the microsoft/igvm crate (and igvm validate) will reject the file`);
  }
  const acpi = acpiFrom(v.strings.get('acpi_dir'));
  log.push(`INFO ACPI tables from ${acpi.source}: ${acpi.pages.size} pages, end 0x${acpi.acpiEnd.toString(16)}`);
  const idBlock = idBlockFrom(v.strings.get('config_file'));
  const deterministic = boolValue(v, 'sign_deterministic', false);
  const keyFile = v.files.get('sign_key');
  let key: EcPrivateKey;
  if (keyFile) {
    key = parseEcPrivateKey(keyFile.bytes, keyFile.name);
    if (!deterministic) warnings.push('igvmgen: warning: -sign_key without -sign_deterministic true: the ID block signature uses a random nonce, so the output differs on every run');
  } else {
    key = randomP384Key();
    warnings.push('igvmgen: warning: no -sign_key: the SNP ID block is signed with a fresh random key, so the output is not reproducible (pass -sign_key KEY.pem -sign_deterministic true)');
  }

  const result = generateIgvmgen({
    inform,
    intel: (v.strings.get('arch') ?? 'Intel') === 'Intel',
    bootMode,
    kernel,
    append,
    vmpl2Kernel: v.files.get('vmpl2_kernel'),
    symbolElf: v.files.get('symbol_elf'),
    rdinit: v.files.get('rdinit'),
    sharedPayload: v.files.get('shared_payload'),
    pgtableLevel: pgtable === undefined ? undefined : Number(pgtable),
    highestVtl,
    pvalidateOpt: boolValue(v, 'pvalidate_opt', true),
    encryptedPage: boolValue(v, 'encrypted_page', true),
    svme: boolValue(v, 'svme', true),
    acpi,
    idBlock,
    signKey: key,
    signDeterministic: deterministic,
  });
  const digestHex = toHex(result.launchDigest);
  log.push(...result.log.map((l) => `DEBUG ${l}`), `INFO wrote ${outPath} (${result.bytes.length} bytes)`);

  const outputs: OutputFile[] = [{ path: outPath, data: result.bytes }];
  const measurementPath = v.strings.get('measurement_file');
  const svn = v.strings.get('svn') ?? '0';
  if (measurementPath !== undefined) outputs.push({ path: measurementPath, data: measurementJson(svn, digestHex) });
  const level = v.strings.get('log_level');
  if (level !== undefined) outputs.push({ path: 'igvm.log', data: logText(log, level) });
  writeAtomicMany(outputs);

  let stdout = result.stdout.map((l) => l + '\n').join('');
  if (measurementPath !== undefined) stdout += measurementRepr(svn, digestHex);
  return { stdout, stderr: warnings.map((w) => w + '\n').join('') };
}

/** igvm.log lines at or above `level`, as Python logging's basicConfig formats them ("LEVEL:root:message"). */
function logText(lines: readonly string[], level: string): string {
  const min = LOG_LEVELS[level] ?? 10;
  return lines
    .map((l) => ({ level: l.slice(0, l.indexOf(' ')), text: l.slice(l.indexOf(' ') + 1) }))
    .filter((l) => (LOG_LEVELS[l.level] ?? 10) >= min)
    .map((l) => `${l.level}:igvmgen:${l.text}\n`)
    .join('');
}

/** Read an input file named on the command line, as argparse.FileType('rb') would; '-' is standard input. */
export function readNamedInput(path: string): NamedInput {
  return { name: path, bytes: readInput(path) };
}

export { IgvmError };
