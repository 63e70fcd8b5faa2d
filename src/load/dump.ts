// The populated guest memory of a load plan as files (one per region, named by GPA) plus an index (QEMU-LOADER.md §5.1, §5.6).
import { sha256 } from '../crypto/hash.js';
import type { LoadPlan, MemoryPopulation } from './plan.js';

export interface DumpFile {
  name: string;
  data: Uint8Array;
}

export interface DumpIndexEntry {
  file: string | undefined;
  gpa: bigint;
  size: bigint;
  source: MemoryPopulation['source'];
  directive: number;
  count: number;
  ram: string;
  sev_type: string | undefined;
  measured: boolean;
  replaced: string | undefined;
  sha256: Uint8Array | undefined;
}

/** Largest region written as a file; larger regions are listed in the index without contents. */
export const MAX_DUMP_REGION = 1n << 30n;

/**
 * One file per memory region QEMU populated, holding the guest-visible contents after loading (later writes to the
 * same GPA included). REQUIRED_MEMORY writes no contents and gets no file.
 */
export function dumpFiles(plan: LoadPlan): { files: DumpFile[]; index: DumpIndexEntry[] } {
  const files: DumpFile[] = [];
  const index: DumpIndexEntry[] = [];
  plan.populations.forEach((m, i) => {
    const withContents = m.source !== 'required-memory' && m.size > 0n && m.size <= MAX_DUMP_REGION;
    const name = withContents ? `${String(i).padStart(3, '0')}-gpa-${m.gpa.toString(16).padStart(12, '0')}-${m.source}.bin` : undefined;
    const data = withContents ? plan.memory.read(m.gpa, m.size) : undefined;
    if (name !== undefined && data !== undefined) files.push({ name, data });
    index.push({
      file: name, gpa: m.gpa, size: m.size, source: m.source, directive: m.directive, count: m.count, ram: m.ram.name,
      sev_type: m.sevType, measured: m.measured, replaced: m.replaced, sha256: data ? sha256(data) : undefined,
    });
  });
  return { files, index };
}
