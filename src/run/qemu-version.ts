// QEMU version detection for `igvm run`: IGVM with native contexts needs QEMU ≥ 10.2 (QEMU-LOADER.md §1).

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
}

/** Parse `qemu-system-x86_64 --version` output ("QEMU emulator version 7.2.22 (Debian …)"). */
export function parseQemuVersion(text: string): QemuVersion | undefined {
  const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
}

/** QEMU loads IGVM files with native VP contexts and memory maps from 10.2 on. */
export function supportsIgvm(v: QemuVersion): boolean {
  return v.major > 10 || (v.major === 10 && v.minor >= 2);
}
