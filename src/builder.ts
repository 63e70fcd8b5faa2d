// Builder API for constructing IGVM files in code; build() applies every crate rule (FORMAT.md §9, §10).
import { PLATFORM_TYPE, type PlatformTypeName, type ParameterType } from './spec/constants.js';
import { IGVM_VHS_SNP_ID_BLOCK } from './spec/snp-id-block.js';
import { IGVM_VHS_VBS_MEASUREMENT } from './spec/vbs-measurement.js';
import { ByteReader } from './bytes.js';
import { IgvmError } from './errors.js';
import type { DirectiveHeader, IgvmFile, InitializationHeader, SnpIdBlock, SupportedPlatform, VbsMeasurement, VpContextData } from './model.js';
import { serializeIgvm } from './format/serialize.js';
import { parseIgvm } from './format/index.js';
import { encodeVmsa, encodeNativeContext, encodeVbsContext, type VmsaFields, type NativeContextFields } from './format/contexts.js';

export interface BuilderOptions {
  /** 1 (default) or 2. */
  formatVersion?: 1 | 2;
  /** 'X64' (default) or 'AARCH64' (format version 2 only). */
  architecture?: 'X64' | 'AARCH64';
}

export interface PageOptions {
  flags?: number;
  /** 0 NORMAL, 1 SECRETS, 2 CPUID_DATA, 3 CPUID_XF. */
  dataType?: number;
}

const zeroBody = <T extends { read(r: ByteReader, o: number): unknown; size: number }>(layout: T) =>
  layout.read(new ByteReader(new Uint8Array(layout.size)), 0) as ReturnType<T['read']>;

/** Construct a file header by header. Platform masks are assigned one bit each in declaration order. */
export class IgvmBuilder {
  private readonly file: IgvmFile;

  constructor(options: BuilderOptions = {}) {
    const v = options.formatVersion ?? 1;
    const arch = options.architecture === 'AARCH64' ? 1 : 0;
    if (v === 1 && arch !== 0) throw new IgvmError('builder-arch', 'format version 1 files are always X64; use formatVersion 2 for AARCH64');
    this.file = { revision: { format_version: v, architecture: arch, page_size: 0x1000 }, platforms: [], initializations: [], directives: [] };
  }

  /** Declare a platform; returns its compatibility mask. */
  platform(type: PlatformTypeName, opts: { highestVtl?: number; sharedGpaBoundary?: bigint; mask?: number } = {}): number {
    const mask = opts.mask ?? 1 << this.file.platforms.length;
    const p: SupportedPlatform = {
      type: 'SUPPORTED_PLATFORM',
      compatibility_mask: mask >>> 0,
      highest_vtl: opts.highestVtl ?? 0,
      platform_type: PLATFORM_TYPE[type],
      platform_version: 1,
      shared_gpa_boundary: opts.sharedGpaBoundary ?? 0n,
    };
    this.file.platforms.push(p);
    return p.compatibility_mask;
  }

  guestPolicy(policy: bigint, mask: number): this {
    return this.initialization({ type: 'GUEST_POLICY', policy, compatibility_mask: mask, reserved: 0 });
  }

  initialization(h: InitializationHeader): this {
    this.file.initializations.push(h);
    return this;
  }

  directive(h: DirectiveHeader): this {
    this.file.directives.push(h);
    return this;
  }

  /** One 4 KiB page; `data` shorter than 4096 is zero-padded, omitted means a zero page. */
  pageData(gpa: bigint, mask: number, data?: Uint8Array, opts: PageOptions = {}): this {
    if (data && data.length > 0x1000) throw new IgvmError('data-too-large', `page data for 0x${gpa.toString(16)} is ${data.length} bytes, more than 4096`, { crate: 'InvalidDataSize' });
    return this.directive({
      type: 'PAGE_DATA', gpa, compatibility_mask: mask, file_offset: 0, flags: opts.flags ?? 0, data_type: opts.dataType ?? 0, reserved: 0,
      data: data && data.length > 0 ? data : undefined,
    });
  }

  /** Pages covering `bytes` from `gpa` (4 KiB aligned); all-zero pages become zero pages without file data. */
  pages(gpa: bigint, bytes: Uint8Array, mask: number, opts: PageOptions = {}): this {
    for (let off = 0; off < bytes.length; off += 0x1000) {
      const chunk = bytes.subarray(off, Math.min(off + 0x1000, bytes.length));
      this.pageData(gpa + BigInt(off), mask, chunk.some((b) => b !== 0) ? chunk : undefined, opts);
    }
    return this;
  }

  parameterArea(index: number, numberOfBytes: bigint, data?: Uint8Array): this {
    if (data && BigInt(data.length) > numberOfBytes) throw new IgvmError('data-too-large', `parameter area ${index} initial data is ${data.length} bytes, more than its ${numberOfBytes} bytes`, { crate: 'InvalidDataSize' });
    return this.directive({ type: 'PARAMETER_AREA', number_of_bytes: numberOfBytes, parameter_area_index: index, file_offset: 0, data: data && data.length ? data : undefined });
  }

  parameter(type: ParameterType, index: number, byteOffset = 0): this {
    return this.directive({ type, parameter_area_index: index, byte_offset: byteOffset });
  }

  parameterInsert(gpa: bigint, mask: number, index: number): this {
    return this.directive({ type: 'PARAMETER_INSERT', gpa, compatibility_mask: mask, parameter_area_index: index });
  }

  private context(gpa: bigint, mask: number, vpIndex: number, context: VpContextData): this {
    return this.directive({ type: 'VP_CONTEXT', gpa, compatibility_mask: mask, file_offset: 0, vp_index: vpIndex, reserved: 0, context });
  }

  /** SEV-SNP / SEV-ES VMSA at `gpa` (a 4096-byte page or fields to encode). */
  vmsa(gpa: bigint, mask: number, vpIndex: number, vmsa: Uint8Array | Partial<VmsaFields>): this {
    const data = vmsa instanceof Uint8Array ? vmsa : encodeVmsa(vmsa);
    if (data.length !== 0x1000) throw new IgvmError('data-too-large', `a VMSA page is 4096 bytes, got ${data.length}`);
    return this.context(gpa, mask, vpIndex, { kind: 'vmsa', data });
  }

  /** NATIVE / SEV context (IgvmNativeVpContextX64). */
  nativeContext(mask: number, vpIndex: number, fields: Partial<NativeContextFields>): this {
    return this.context(0n, mask, vpIndex, { kind: 'native-x64', data: encodeNativeContext(fields) });
  }

  /** VSM_ISOLATION register list (vp_index 0). */
  vbsContext(mask: number, vtl: number, registers: { register_name: number; value: Uint8Array }[]): this {
    const data = encodeVbsContext(registers.map((r) => ({ ...r, vtl })));
    return this.context(0n, mask, 0, {
      kind: 'vbs', data, vtl,
      registers: registers.map((r) => ({ vtl, register_name: r.register_name, name: undefined, mbz: new Uint8Array(11), register_value: r.value })),
    });
  }

  requiredMemory(gpa: bigint, mask: number, numberOfBytes: number, flags = 0): this {
    return this.directive({ type: 'REQUIRED_MEMORY', gpa, compatibility_mask: mask, number_of_bytes: numberOfBytes, flags, reserved: 0 });
  }

  snpIdBlock(fields: Partial<Omit<SnpIdBlock, 'type'>> & { compatibility_mask: number }): this {
    return this.directive({ ...zeroBody(IGVM_VHS_SNP_ID_BLOCK), ...fields, type: 'SNP_ID_BLOCK' } as SnpIdBlock);
  }

  vbsMeasurement(fields: Partial<Omit<VbsMeasurement, 'type'>> & { compatibility_mask: number }): this {
    return this.directive({ ...zeroBody(IGVM_VHS_VBS_MEASUREMENT), ...fields, type: 'VBS_MEASUREMENT' } as VbsMeasurement);
  }

  /** Serialize (compact) after checking every crate rule; throws IgvmError if the file would be invalid. */
  toBytes(): Uint8Array {
    const bytes = serializeIgvm(this.file);
    parseIgvm(bytes);
    return bytes;
  }

  /** The validated model (parsed back from the serialized bytes). */
  build(): IgvmFile {
    return parseIgvm(this.toBytes());
  }
}
