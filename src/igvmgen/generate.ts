// igvmgen generation: one run from parsed options to the IGVM bytes, launch digest and measurement file (IGVMGEN.md §1.3, §9, §11).
import { IgvmError } from '../errors.js';
import type { AcpiImage } from '../acpi/image.js';
import { encodeVmsa } from '../format/contexts.js';
import { toHex } from '../bytes.js';
import { GuestMemory } from './guest-memory.js';
import { emitIgvmgenFile, VMSA_GPA } from './emit.js';
import { layoutBzImage, type NamedInput, type LayoutResult } from './layout-bzimage.js';
import { layoutElf } from './layout-elf.js';
import { vmsaFields, type BootMode } from './x86-state.js';
import { idBlockHeader, signIdBlock, type SnpIdBlockFields } from '../snp/id-block.js';
import type { EcPrivateKey } from '../crypto/ec-key.js';

export type Inform = 'bzImage' | 'bzImage2' | 'elf';

/** ID-block values (§9.1 defaults, or a TEI config). */
export interface IdBlockValues {
  familyId: Uint8Array;
  imageId: Uint8Array;
  version: number;
  guestSvn: number;
  policy: bigint;
}

export const DEFAULT_ID_BLOCK: IdBlockValues = {
  familyId: Uint8Array.of(1, ...new Uint8Array(15)),
  imageId: Uint8Array.of(2, ...new Uint8Array(15)),
  version: 1,
  guestSvn: 2,
  policy: 0x3001fn,
};

export interface IgvmgenOptions {
  inform: Inform;
  intel: boolean;
  bootMode: BootMode;
  kernel: NamedInput;
  /** Kernel command line (ASCII). */
  append: string;
  vmpl2Kernel?: NamedInput | undefined;
  symbolElf?: NamedInput | undefined;
  rdinit?: NamedInput | undefined;
  sharedPayload?: NamedInput | undefined;
  pgtableLevel?: number | undefined;
  /** SUPPORTED_PLATFORM.HighestVtl (the original stores `-vtl & 0xFF`). */
  highestVtl: number;
  pvalidateOpt: boolean;
  encryptedPage: boolean;
  svme: boolean;
  acpi: AcpiImage;
  idBlock: IdBlockValues;
  signKey: EcPrivateKey;
  signDeterministic: boolean;
}

export interface IgvmgenResult {
  bytes: Uint8Array;
  launchDigest: Uint8Array;
  /** Lines the original prints during generation (bzImage2's write_not_validated). */
  stdout: string[];
  /** Debug notes (what the original writes into igvm.log, in our words). */
  log: string[];
}

function asciiCmdline(append: string): Uint8Array {
  const out = new Uint8Array(append.length);
  for (let i = 0; i < append.length; i++) {
    const c = append.charCodeAt(i);
    if (c > 0x7f) {
      throw new IgvmError('cmdline-not-ascii', `the kernel command line must be ASCII; found ${JSON.stringify(append[i])} (U+${c.toString(16).toUpperCase().padStart(4, '0')}) at position ${i}`, { path: '-append' });
    }
    out[i] = c;
  }
  return out;
}

/** Generate an image exactly as the original igvmgen does (apart from zero record padding). */
export function generateIgvmgen(o: IgvmgenOptions): IgvmgenResult {
  const cmdline = asciiCmdline(o.append);
  const mem = new GuestMemory();
  let layout: LayoutResult;
  if (o.inform === 'elf') {
    layout = layoutElf(mem, {
      kernel: o.kernel, cmdline, vmpl2Kernel: o.vmpl2Kernel, bootMode: o.bootMode, pgtableLevel: o.pgtableLevel,
      encryptedPage: o.encryptedPage, acpi: o.acpi,
    });
  } else {
    if (o.inform === 'bzImage2' && !o.sharedPayload) {
      throw new IgvmError('missing-shared-payload', '-inform bzImage2 needs -shared_payload FILE', { path: '-shared_payload' });
    }
    layout = layoutBzImage(mem, {
      kernel: o.kernel, cmdline, initrd: o.rdinit, symbolElf: o.symbolElf,
      sharedPayload: o.inform === 'bzImage2' ? o.sharedPayload : undefined,
      bootMode: o.bootMode, pvalidateOpt: o.pvalidateOpt, encryptedPage: o.encryptedPage, acpi: o.acpi,
    });
  }
  mem.write(VMSA_GPA, encodeVmsa(vmsaFields({ ...layout.vmsa, svme: o.svme, intel: o.intel })));
  const out = emitIgvmgenFile({
    memory: mem,
    highestVtl: o.highestVtl,
    policy: o.idBlock.policy,
    sharedRange: layout.sharedRange,
    idBlock: (ld) => {
      const fields: SnpIdBlockFields = { ld, ...o.idBlock };
      return idBlockHeader(fields, signIdBlock(fields, o.signKey, { deterministic: o.signDeterministic }), 1);
    },
  });
  return {
    bytes: out.bytes,
    launchDigest: out.launchDigest,
    stdout: layout.stdout,
    log: [
      ...layout.log,
      `${out.pageDataHeaders} PAGE_DATA headers, ${out.dataPages} data pages, ${out.bytes.length} bytes`,
      `launch digest ${toHex(out.launchDigest)}`,
    ],
  };
}
