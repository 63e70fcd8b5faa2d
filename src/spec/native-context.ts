// VP context payloads for NATIVE/SEV (IgvmNativeVpContextX64, 232 bytes) and CCA (IgvmVpContextAArch64Cca, 80 bytes) (FORMAT.md §7.1, §7.3).
import { defineStruct, type FieldDef } from './struct.js';

export const IGVM_NATIVE_VP_CONTEXT_X64 = defineStruct('IgvmNativeVpContextX64', 232, [
  { name: 'rax', kind: 'u64', offset: 0x00 },
  { name: 'rcx', kind: 'u64', offset: 0x08 },
  { name: 'rdx', kind: 'u64', offset: 0x10 },
  { name: 'rbx', kind: 'u64', offset: 0x18 },
  { name: 'rsp', kind: 'u64', offset: 0x20 },
  { name: 'rbp', kind: 'u64', offset: 0x28 },
  { name: 'rsi', kind: 'u64', offset: 0x30 },
  { name: 'rdi', kind: 'u64', offset: 0x38 },
  { name: 'r8', kind: 'u64', offset: 0x40 },
  { name: 'r9', kind: 'u64', offset: 0x48 },
  { name: 'r10', kind: 'u64', offset: 0x50 },
  { name: 'r11', kind: 'u64', offset: 0x58 },
  { name: 'r12', kind: 'u64', offset: 0x60 },
  { name: 'r13', kind: 'u64', offset: 0x68 },
  { name: 'r14', kind: 'u64', offset: 0x70 },
  { name: 'r15', kind: 'u64', offset: 0x78 },
  { name: 'rip', kind: 'u64', offset: 0x80 },
  { name: 'rflags', kind: 'u64', offset: 0x88 },
  { name: 'idtr_base', kind: 'u64', offset: 0x90 },
  { name: 'idtr_limit', kind: 'u16', offset: 0x98 },
  { name: 'reserved', kind: 'bytes', offset: 0x9a, size: 4 },
  { name: 'gdtr_limit', kind: 'u16', offset: 0x9e },
  { name: 'gdtr_base', kind: 'u64', offset: 0xa0 },
  { name: 'code_selector', kind: 'u16', offset: 0xa8 },
  { name: 'code_attributes', kind: 'u16', offset: 0xaa },
  { name: 'code_base', kind: 'u32', offset: 0xac },
  { name: 'code_limit', kind: 'u32', offset: 0xb0 },
  { name: 'data_selector', kind: 'u16', offset: 0xb4 },
  { name: 'data_attributes', kind: 'u16', offset: 0xb6 },
  { name: 'data_base', kind: 'u32', offset: 0xb8 },
  { name: 'data_limit', kind: 'u32', offset: 0xbc },
  { name: 'gs_base', kind: 'u64', offset: 0xc0 },
  { name: 'cr0', kind: 'u64', offset: 0xc8 },
  { name: 'cr3', kind: 'u64', offset: 0xd0 },
  { name: 'cr4', kind: 'u64', offset: 0xd8 },
  { name: 'efer', kind: 'u64', offset: 0xe0 },
] as const satisfies readonly FieldDef[]);

export const IGVM_VP_CONTEXT_AARCH64_CCA = defineStruct('IgvmVpContextAArch64Cca', 80, [
  { name: 'x0', kind: 'u64', offset: 0x00 },
  { name: 'x1', kind: 'u64', offset: 0x08 },
  { name: 'x2', kind: 'u64', offset: 0x10 },
  { name: 'x3', kind: 'u64', offset: 0x18 },
  { name: 'x4', kind: 'u64', offset: 0x20 },
  { name: 'x5', kind: 'u64', offset: 0x28 },
  { name: 'x6', kind: 'u64', offset: 0x30 },
  { name: 'x7', kind: 'u64', offset: 0x38 },
  { name: 'pc', kind: 'u64', offset: 0x40 },
  { name: 'flags', kind: 'u64', offset: 0x48 },
] as const);

/** Both contexts are stored as one 4096-byte page: the structure followed by zeros. */
export const CONTEXT_PAGE_SIZE = 4096;
