// VP context data by platform: VMSA (SNP/SEV-ES), native x64 (NATIVE/SEV), CCA, VBS register list (FORMAT.md §7).
import { PLATFORM_TYPE, platformTypeName, ARCHITECTURE } from '../spec/constants.js';
import { IGVM_VHS_VP_CONTEXT } from '../spec/directives.js';
import { IGVM_NATIVE_VP_CONTEXT_X64, IGVM_VP_CONTEXT_AARCH64_CCA, CONTEXT_PAGE_SIZE } from '../spec/native-context.js';
import { VMSA_FIELDS_END, VMSA_PAGE_SIZE } from '../spec/vmsa.js';
import { VBS_VP_CONTEXT_REGISTER, VBS_X64_REGISTERS, VBS_ARM64_REGISTERS } from '../spec/vbs-context.js';
import type { StructValue } from '../spec/struct.js';
import { platformForMask, type VpContextData, type VbsRegister } from '../model.js';
import { firstNonZero } from '../bytes.js';
import { headerError, headerPanic, headerWarning, readFileData, isPageAligned, hexOf, type DecodeContext } from './decode-context.js';

type VpHeader = StructValue<typeof IGVM_VHS_VP_CONTEXT.fields>;
const F = (name: string) => ({ name, offset: IGVM_VHS_VP_CONTEXT.fields.find((f) => f.name === name)?.offset ?? 0 });

/** Decode the data a VP_CONTEXT points at, according to the platform whose mask equals the header's mask. */
export function decodeVpContextData(ctx: DecodeContext, v: VpHeader): VpContextData {
  const platform = platformForMask(ctx.platforms, v.compatibility_mask);
  if (!platform) {
    headerError(ctx, 'vp-context-platform', 'InvalidVpContextPlatformType', `compatibility_mask ${hexOf(v.compatibility_mask)} is not exactly the mask of one declared platform`, F('compatibility_mask'));
    return { kind: 'unknown', data: undefined };
  }
  switch (platform.platform_type) {
    case PLATFORM_TYPE.SEV_SNP:
    case PLATFORM_TYPE.SEV_ES: {
      const data = readFileData(ctx, v.file_offset, VMSA_PAGE_SIZE, 'VMSA page', F('file_offset'));
      if (!isPageAligned(v.gpa)) headerError(ctx, 'unaligned-gpa', 'UnalignedAddress', `VP_CONTEXT gpa ${hexOf(v.gpa)} (the VMSA address) is not 4 KiB aligned`, F('gpa'));
      if (!data) return { kind: 'unknown', data: undefined };
      const at = firstNonZero(data, VMSA_FIELDS_END, VMSA_PAGE_SIZE);
      if (at >= 0) {
        headerWarning(ctx, 'vmsa-tail-not-zero', `VMSA bytes 0x670..0xfff are not zero (first at page offset 0x${at.toString(16)}; microsoft/igvm ≤ 0.4.0 rejects this with InvalidVmsa, later versions accept it)`, undefined, v.file_offset + at);
      }
      return { kind: 'vmsa', data };
    }
    case PLATFORM_TYPE.NATIVE:
    case PLATFORM_TYPE.SEV:
    case PLATFORM_TYPE.CCA: {
      const layout = platform.platform_type === PLATFORM_TYPE.CCA ? IGVM_VP_CONTEXT_AARCH64_CCA : IGVM_NATIVE_VP_CONTEXT_X64;
      const data = readFileData(ctx, v.file_offset, CONTEXT_PAGE_SIZE, `${layout.name} page`, F('file_offset'));
      if (!data) return { kind: 'unknown', data: undefined };
      const at = firstNonZero(data, layout.size, CONTEXT_PAGE_SIZE);
      if (at >= 0) {
        headerError(ctx, 'context-tail-not-zero', 'InvalidContext', `${layout.name} page has non-zero bytes after the ${layout.size}-byte structure (first at page offset 0x${at.toString(16)})`, undefined, v.file_offset + at);
      }
      return platform.platform_type === PLATFORM_TYPE.CCA ? { kind: 'cca', data } : { kind: 'native-x64', data };
    }
    case PLATFORM_TYPE.VSM_ISOLATION:
      return decodeVbsContext(ctx, v);
    default:
      headerError(ctx, 'vp-context-platform', 'InvalidVpContextPlatformType', `a VP context is not allowed for platform ${platformTypeName(platform.platform_type)} (it has an architectural reset state)`, F('compatibility_mask'));
      return { kind: 'unknown', data: undefined };
  }
}

function decodeVbsContext(ctx: DecodeContext, v: VpHeader): VpContextData {
  // Mirrors the crate step by step: `start = (file_offset - file_data_start) as u32` (wrapping),
  // `&file_data[start..]` (panics when start is past the end), then zerocopy reads that fail with
  // InvalidDataSize, the per-register vtl assert, the vp_index assert, and only then the
  // register_count / vtl / register-name errors.
  const dataLen = ctx.reader.length - ctx.fileDataStart;
  const start = (v.file_offset - ctx.fileDataStart) >>> 0;
  if (start > dataLen) {
    headerPanic(ctx, 'vbs-context-out-of-range', `VBS register list at file offset ${hexOf(v.file_offset)} is not inside the file data section (slice index out of range)`, F('file_offset'));
    return { kind: 'unknown', data: undefined };
  }
  if (dataLen - start < 4) {
    headerError(ctx, 'data-out-of-range', 'InvalidDataSize', `VBS register list at file offset ${hexOf(v.file_offset)}: fewer than 4 bytes of file data for register_count`, F('file_offset'));
    return { kind: 'unknown', data: undefined };
  }
  const count = ctx.reader.u32(v.file_offset);
  const names = ctx.architecture === ARCHITECTURE.AARCH64 ? VBS_ARM64_REGISTERS : VBS_X64_REGISTERS;
  const raw: ReturnType<typeof VBS_VP_CONTEXT_REGISTER.read>[] = [];
  let vtl = -1;
  for (let i = 0; i < count; i++) {
    const at = v.file_offset + 4 + i * 32;
    if (at + 32 > ctx.reader.length) {
      headerError(ctx, 'data-out-of-range', 'InvalidDataSize', `VBS register list (${count} registers) at file offset ${hexOf(v.file_offset)}: register ${i} runs past the end of the file`, undefined, at);
      return { kind: 'unknown', data: undefined };
    }
    const r = VBS_VP_CONTEXT_REGISTER.read(ctx.reader, at);
    if (vtl === -1) vtl = r.vtl;
    else if (r.vtl !== vtl) {
      headerPanic(ctx, 'vbs-mixed-vtl', `VBS register ${i} has vtl ${r.vtl} but earlier registers have vtl ${vtl}`, undefined, at);
      return { kind: 'unknown', data: undefined };
    }
    raw.push(r);
  }
  if (v.vp_index !== 0) headerPanic(ctx, 'vbs-vp-index', `VBS VP context vp_index must be 0 (is ${v.vp_index})`, F('vp_index'));
  const size = 4 + count * 32;
  if (count === 0) {
    headerError(ctx, 'vbs-no-registers', 'NoVbsVpContextRegisters', 'VBS VP context has register_count 0', undefined, v.file_offset);
    return { kind: 'vbs', data: ctx.reader.slice(v.file_offset, 4), registers: [], vtl: 0 };
  }
  if (vtl > 2) headerError(ctx, 'invalid-vtl', 'InvalidVtl', `VBS registers have vtl ${vtl}, not 0, 1 or 2`, undefined, v.file_offset + 4);
  const registers: VbsRegister[] = [];
  raw.forEach((r, i) => {
    const name = names.get(r.register_name);
    if (name === undefined) {
      const arm = ctx.architecture === ARCHITECTURE.AARCH64;
      headerError(ctx, 'vbs-unsupported-register', arm ? 'UnsupportedAArch64Register' : 'UnsupportedX64Register', `VBS register ${i}: register name ${hexOf(r.register_name)} is not a supported ${arm ? 'AArch64' : 'x64'} register`, undefined, v.file_offset + 4 + i * 32 + 1);
    }
    registers.push({ ...r, name });
  });
  return { kind: 'vbs', data: ctx.reader.slice(v.file_offset, size), registers, vtl: Math.max(vtl, 0) };
}
