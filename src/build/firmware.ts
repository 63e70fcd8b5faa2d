// `igvm build --firmware`: a firmware volume (e.g. OVMF.fd) as the payload, mapped so it ends at 4 GiB and its reset
// vector is at 0xFFFFFFF0; no VP context, so the CPU starts at the architectural reset vector (QEMU-LOADER.md §1, §6).
import { IgvmError } from '../errors.js';
import { IgvmBuilder } from '../builder.js';
import type { BuildPlatform } from './index.js';

/** Largest firmware image: it must stay above the IOAPIC/LAPIC MMIO at 0xFEC00000–0xFEEFFFFF. */
export const MAX_FIRMWARE_SIZE = 16 * 1024 * 1024;
const TOP = 0x100000000;

export interface FirmwareBuildResult {
  bytes: Uint8Array;
  gpa: number;
  notes: string[];
}

export function buildFirmwareIgvm(firmware: { name: string; bytes: Uint8Array }, platforms: readonly BuildPlatform[]): FirmwareBuildResult {
  const size = firmware.bytes.length;
  const where = { file: firmware.name, path: '--firmware' };
  if (platforms.length !== 1 || platforms[0] !== 'native') {
    throw new IgvmError('firmware-platform', `--firmware images are built for the native platform only (got ${platforms.join(',')}); SEV-ES/SEV-SNP firmware needs its own SEV metadata`, where);
  }
  if (size === 0 || size % 4096 !== 0) {
    throw new IgvmError('firmware-size', `the firmware volume is ${size} bytes; expected a non-empty multiple of 4096 (a flash image such as OVMF.fd)`, where);
  }
  if (size > MAX_FIRMWARE_SIZE) {
    throw new IgvmError('firmware-size', `the firmware volume is ${size} bytes; at most ${MAX_FIRMWARE_SIZE} fit below 4 GiB above the IOAPIC/LAPIC`, where);
  }
  const gpa = TOP - size;
  const b = new IgvmBuilder({ formatVersion: 2 });
  const mask = b.platform('NATIVE');
  b.pages(BigInt(gpa), firmware.bytes, mask);
  const notes = [`firmware mapped at 0x${gpa.toString(16)}–0xffffffff; the CPU starts at the reset vector 0xfffffff0 (no VP context)`];
  const rv = firmware.bytes.subarray(size - 16);
  if (rv.every((x) => x === 0) || rv.every((x) => x === 0xff)) notes.push('the last 16 bytes (the reset vector) are empty: this does not look like a firmware volume');
  return { bytes: b.toBytes(), gpa, notes };
}
