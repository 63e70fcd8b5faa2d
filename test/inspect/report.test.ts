// inspectIgvm / renderInspect: page ranges, parameter areas, VP contexts, SNP ID block and policy decoding,
// on a hand-built two-platform file and on the igvmgen T_bzImage64 vector (cross-checked with its -d dump).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgvmBuilder } from '../../src/builder.js';
import { parseIgvm, readIgvm } from '../../src/format/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { inspectIgvm, type InspectReport, type PageRange } from '../../src/inspect/report.js';
import { renderInspect } from '../../src/inspect/render.js';
import { EXPECTED } from '../helpers.js';
import { PLAT, assembleWith, platform, vpContext } from '../raw-igvm.js';

// ------------------------------------------------------------------------------------------ the hand-built file

const POLICY = 0x30000n | (1n << 19n) | (2n << 8n) | 0x1fn; // reserved bit 17, SMT, debug, ABI 2.31
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const seq = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

function idPublicKey(): Uint8Array {
  const k = new Uint8Array(152);
  new DataView(k.buffer).setUint32(0, 2, true); // curve P-384
  k.set(fill(48, 0x11), 8); // qx
  k.set(fill(48, 0x22), 80); // qy
  return k;
}

function idSignature(): Uint8Array {
  const s = new Uint8Array(144);
  s.set(fill(48, 0x33), 0); // r
  s.set(fill(48, 0x44), 72); // s
  return s;
}

function buildTwoPlatformFile(): Uint8Array {
  const b = new IgvmBuilder();
  const snp = b.platform('SEV_SNP');
  const native = b.platform('NATIVE');
  assert.equal(snp, 1);
  assert.equal(native, 2);
  b.guestPolicy(POLICY, snp);
  // Interleaved per-mask streams: each collapses on its own.
  b.pageData(0x100000n, snp, fill(100, 1));
  b.pageData(0x100000n, native, fill(100, 2));
  b.pageData(0x101000n, snp); // zero page
  b.pageData(0x101000n, native, fill(100, 3));
  b.pageData(0x102000n, snp, fill(100, 4));
  // A hole, then zero pages.
  b.pageData(0x104000n, snp);
  b.pageData(0x105000n, snp);
  // Contiguous, but another data type / flags: separate ranges.
  b.pageData(0x106000n, snp, fill(64, 5), { dataType: 2 }); // CPUID_DATA
  b.pageData(0x107000n, snp, undefined, { dataType: 1 }); // SECRETS
  b.pageData(0x108000n, snp, undefined, { flags: 2 }); // unmeasured
  b.pageData(0x109000n, snp, undefined, { flags: 2 });
  // Back to NORMAL/0 after the other kinds: not merged with the range that ended at 0x106000.
  b.pageData(0x10a000n, snp, fill(8, 6));
  b.parameterArea(0, 0x2000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameter('MEMORY_MAP', 0, 8);
  b.parameterInsert(0x200000n, snp | native, 0);
  b.parameterArea(1, 0x1000n, new TextEncoder().encode('console=ttyS0'));
  b.parameter('COMMAND_LINE', 1, 0);
  b.parameterInsert(0x202000n, native, 1); // area 0 covers 0x200000–0x201fff
  b.vmsa(0x300000n, snp, 0, {
    rip: 0x1234000n, rsp: 0x8000n, rflags: 2n, cr0: 0x80000011n, cr3: 0x400000n, cr4: 0x20n, efer: 0x1500n, xcr0: 1n,
    pat: 0x0007040600070406n, sev_features: 0x9n, rsi: 0x7000n, vmpl: 0, cpl: 0,
    cs: { selector: 0x8, attrib: 0x29b, limit: 0xffffffff, base: 0n },
    ds: { selector: 0x10, attrib: 0x293, limit: 0xffffffff, base: 0n },
    gdtr: { selector: 0, attrib: 0, limit: 0x1f, base: 0x5000n },
    tr: { selector: 0x28, attrib: 0x8b, limit: 0x67, base: 0x6000n },
  });
  // vp 1: long mode enabled but a code segment without the L bit.
  b.vmsa(0x301000n, snp, 1, { rip: 0x2000n, cr0: 0x80000011n, efer: 0x500n, cs: { selector: 0x8, attrib: 0x09b, limit: 0xffffffff, base: 0n } });
  b.nativeContext(native, 0, {
    rip: 0x100000n, rsp: 0x80000n, rflags: 2n, cr0: 0x11n, efer: 0n, rsi: 0x7000n, gs_base: 0x9000n,
    code_selector: 0x10, code_attributes: 0xc09b, code_base: 0, code_limit: 0xffffffff,
    data_selector: 0x18, data_attributes: 0xc093, data_base: 0, data_limit: 0xffffffff,
    gdtr_base: 0x6000n, gdtr_limit: 0x27, idtr_base: 0x7000n, idtr_limit: 0xfff,
  });
  b.requiredMemory(0x400000n, native, 0x10000, 1);
  b.snpIdBlock({
    compatibility_mask: snp, author_key_enabled: 0, ld: seq(48), family_id: seq(16, 0xa0), image_id: seq(16, 0xb0),
    version: 3, guest_svn: 7, id_key_algorithm: 1, author_key_algorithm: 0, id_key_signature: idSignature(), id_public_key: idPublicKey(),
  });
  return b.toBytes();
}

const bytes = buildTwoPlatformFile();
const report: InspectReport = inspectIgvm(parseIgvm(bytes));

const range = (r: Partial<PageRange> & { gpa_start: bigint; gpa_end: bigint }): PageRange => ({
  compatibility_mask: 1, pages: Number((r.gpa_end - r.gpa_start) / 0x1000n), data_pages: 0, zero_pages: 0, data_type: 'NORMAL', flags: 0, flag_names: [], ...r,
});

test('hand-built file: the validator has nothing to say about it', () => {
  const v = validateIgvm(bytes);
  assert.deepEqual(v.problems, []);
});

test('fixed header and header counts', () => {
  assert.deepEqual(report.fixed_header, {
    format_version: 1, architecture: 'X64', page_size: 0x1000, variable_header_offset: 24,
    variable_header_size: new DataView(bytes.buffer).getUint32(12, true), total_file_size: bytes.length,
    checksum: new DataView(bytes.buffer).getUint32(20, true), checksum_ok: true,
  });
  assert.deepEqual(report.header_counts, {
    SUPPORTED_PLATFORM: 2, GUEST_POLICY: 1, PAGE_DATA: 12, PARAMETER_AREA: 2, VP_COUNT_PARAMETER: 1, MEMORY_MAP: 1,
    PARAMETER_INSERT: 2, COMMAND_LINE: 1, VP_CONTEXT: 3, REQUIRED_MEMORY: 1, SNP_ID_BLOCK: 1,
  });
});

test('platforms with the decoded SEV-SNP policy; NATIVE has none', () => {
  assert.equal(report.platforms.length, 2);
  const [snp, native] = report.platforms;
  assert.deepEqual(snp, {
    platform_type: 'SEV_SNP', compatibility_mask: 1, highest_vtl: 0, platform_version: 1, shared_gpa_boundary: 0n,
    policy: {
      policy: POLICY,
      decoded: { abi_minor: 0x1f, abi_major: 2, smt: true, reserved_must_be_one: true, migrate_ma: false, debug: true, single_socket: false },
    },
  });
  assert.deepEqual(native, { platform_type: 'NATIVE', compatibility_mask: 2, highest_vtl: 0, platform_version: 1, shared_gpa_boundary: 0n });
  assert.equal('policy' in native!, false);
});

test('page ranges collapse consecutive GPAs per mask, data type and flags', () => {
  assert.deepEqual(report.page_ranges, [
    range({ gpa_start: 0x100000n, gpa_end: 0x103000n, data_pages: 2, zero_pages: 1 }),
    range({ compatibility_mask: 2, gpa_start: 0x100000n, gpa_end: 0x102000n, data_pages: 2 }),
    range({ gpa_start: 0x104000n, gpa_end: 0x106000n, zero_pages: 2 }),
    range({ gpa_start: 0x106000n, gpa_end: 0x107000n, data_pages: 1, data_type: 'CPUID_DATA' }),
    range({ gpa_start: 0x107000n, gpa_end: 0x108000n, zero_pages: 1, data_type: 'SECRETS' }),
    range({ gpa_start: 0x108000n, gpa_end: 0x10a000n, zero_pages: 2, flags: 2, flag_names: ['unmeasured'] }),
    range({ gpa_start: 0x10a000n, gpa_end: 0x10b000n, data_pages: 1 }),
  ]);
  const total = report.page_ranges.reduce((n, r) => n + r.pages, 0);
  assert.equal(total, report.header_counts['PAGE_DATA']);
  for (const r of report.page_ranges) assert.equal(r.data_pages + r.zero_pages, r.pages);
});

test('parameter areas list their parameters and insert addresses', () => {
  assert.deepEqual(report.parameter_areas, [
    {
      parameter_area_index: 0, number_of_bytes: 0x2000n, initial_data: false,
      parameters: [{ type: 'VP_COUNT_PARAMETER', byte_offset: 0 }, { type: 'MEMORY_MAP', byte_offset: 8 }],
      inserts: [{ gpa: 0x200000n, compatibility_mask: 3 }],
    },
    {
      parameter_area_index: 1, number_of_bytes: 0x1000n, initial_data: true,
      parameters: [{ type: 'COMMAND_LINE', byte_offset: 0 }],
      inserts: [{ gpa: 0x202000n, compatibility_mask: 2 }],
    },
  ]);
});

test('VMSA context: registers, mode and segments', () => {
  assert.equal(report.vp_contexts.length, 3);
  const v = report.vp_contexts[0]!;
  assert.equal(v.platform, 'SEV_SNP');
  assert.equal(v.compatibility_mask, 1);
  assert.equal(v.vp_index, 0);
  assert.equal(v.gpa, 0x300000n);
  assert.equal(v.kind, 'vmsa');
  assert.equal(v.mode, '64-bit long mode');
  assert.equal(v.registers['rip'], 0x1234000n);
  assert.equal(v.registers['rsp'], 0x8000n);
  assert.equal(v.registers['rflags'], 2n);
  assert.equal(v.registers['cr0'], 0x80000011n);
  assert.equal(v.registers['cr3'], 0x400000n);
  assert.equal(v.registers['cr4'], 0x20n);
  assert.equal(v.registers['efer'], 0x1500n);
  assert.equal(v.registers['xcr0'], 1n);
  assert.equal(v.registers['pat'], 0x0007040600070406n);
  assert.equal(v.registers['rsi'], 0x7000n);
  assert.equal(v.registers['vmpl'], 0);
  assert.equal(v.registers['sev_features'], 0x9n);
  assert.equal(v.registers['sev_features_names'], 'SNP,RestrictInjection');
  const seg = v.segments!;
  assert.deepEqual(seg['cs'], { selector: 0x8, attrib: 0x29b, limit: 0xffffffff, base: 0n });
  assert.deepEqual(seg['ds'], { selector: 0x10, attrib: 0x293, limit: 0xffffffff, base: 0n });
  assert.deepEqual(seg['gdtr'], { selector: 0, attrib: 0, limit: 0x1f, base: 0x5000n });
  assert.deepEqual(seg['tr'], { selector: 0x28, attrib: 0x8b, limit: 0x67, base: 0x6000n });
  assert.deepEqual(seg['fs'], { selector: 0, attrib: 0, limit: 0, base: 0n });
  assert.deepEqual(Object.keys(seg).sort(), ['cs', 'ds', 'es', 'fs', 'gdtr', 'gs', 'idtr', 'ldtr', 'ss', 'tr']);

  const v1 = report.vp_contexts[1]!;
  assert.equal(v1.vp_index, 1);
  assert.equal(v1.gpa, 0x301000n);
  assert.equal(v1.mode, 'compatibility mode'); // EFER.LMA with a code segment whose L bit is clear
  assert.equal(v1.registers['rip'], 0x2000n);
});

test('native context: registers, mode and segments', () => {
  const n = report.vp_contexts[2]!;
  assert.equal(n.platform, 'NATIVE');
  assert.equal(n.compatibility_mask, 2);
  assert.equal(n.kind, 'native-x64');
  assert.equal(n.gpa, 0n);
  assert.equal(n.mode, '32-bit protected mode, no paging');
  assert.deepEqual(n.registers, { rip: 0x100000n, rsp: 0x80000n, rflags: 2n, cr0: 0x11n, cr3: 0n, cr4: 0n, efer: 0n, rsi: 0x7000n, rdi: 0n, gs_base: 0x9000n });
  assert.deepEqual(n.segments, {
    cs: { selector: 0x10, attrib: 0xc09b, limit: 0xffffffff, base: 0n },
    ds: { selector: 0x18, attrib: 0xc093, limit: 0xffffffff, base: 0n },
    gdtr: { selector: 0, attrib: 0, limit: 0x27, base: 0x6000n },
    idtr: { selector: 0, attrib: 0, limit: 0xfff, base: 0x7000n },
  });
});

test('SNP ID block fields', () => {
  assert.deepEqual(report.snp_id_blocks, [{
    compatibility_mask: 1, author_key_enabled: 0,
    ld: Buffer.from(seq(48)).toString('hex'),
    family_id: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
    image_id: 'b0b1b2b3b4b5b6b7b8b9babbbcbdbebf',
    version: 3, guest_svn: 7, id_key_algorithm: 1, author_key_algorithm: 0, id_key_curve: 2,
    id_public_key_qx: '11'.repeat(48), id_public_key_qy: '22'.repeat(48),
    id_key_signature_r: '33'.repeat(48), id_key_signature_s: '44'.repeat(48),
  }]);
});

test('other headers keep their fields', () => {
  assert.deepEqual(report.other_headers, [{ type: 'REQUIRED_MEMORY', gpa: 0x400000n, compatibility_mask: 2, number_of_bytes: 0x10000, flags: 1, reserved: 0 }]);
});

test('policy decoding for TDX and SEV platforms', () => {
  const b = new IgvmBuilder();
  const tdx = b.platform('TDX');
  const sev = b.platform('SEV');
  b.guestPolicy(0b101n, tdx);
  b.guestPolicy(0x0201_0025n, sev); // nodbg, es, sev; API 1.2
  b.pageData(0x1000n, tdx | sev);
  const r = inspectIgvm(b.build());
  assert.deepEqual(r.platforms[0]?.policy, { policy: 0b101n, decoded: { debug_allowed: true, sept_ve_disable: false, migratable: true } });
  assert.deepEqual(r.platforms[1]?.policy, {
    policy: 0x0201_0025n,
    decoded: { nodbg: true, noks: false, es: true, nosend: false, domain: false, sev: true, api_major: 1, api_minor: 2 },
  });
});

test('a wrong checksum is reported by checksum_ok and rendered as WRONG', () => {
  const bad = bytes.slice();
  bad[20] = bad[20]! ^ 0xff;
  const { file, problems } = readIgvm(bad, false);
  assert.deepEqual(problems.map((p) => p.code), ['bad-checksum']);
  const r = inspectIgvm(file!);
  assert.equal(r.fixed_header.checksum_ok, false);
  assert.match(renderInspect(r), /checksum 0x[0-9a-f]+ \(WRONG\)/);
  assert.match(renderInspect(report), /checksum 0x[0-9a-f]+ \(ok\)/);
});

test('renderInspect shows the key lines', () => {
  const text = renderInspect(report, 'two.igvm');
  const lines = text.split('\n');
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `no line matches ${re}:\n${text}`);
  assert.ok(text.endsWith('\n'));
  assert.equal(lines[0], 'two.igvm: IGVM format v1, X64, page size 0x1000');
  has(/^ {2}variable headers at 0x18, 0x[0-9a-f]+ bytes; file 0x[0-9a-f]+ bytes; checksum 0x[0-9a-f]+ \(ok\)$/);
  has(/^Platforms:$/);
  has(/^ {2}SEV_SNP\s+mask 0x1\s+highest_vtl 0\s+version 1\s+shared_gpa_boundary 0x0$/);
  has(/^ {2}NATIVE\s+mask 0x2\s+highest_vtl 0/);
  has(/^ {4}policy 0xb021f \(abi_minor=31, abi_major=2, smt, reserved_must_be_one, debug\)$/);
  has(/^ {2}PAGE_DATA\s+12$/);
  has(/^Page data \(GPA ranges\):$/);
  has(/^ {2}mask 0x1\s+0x100000–0x102fff\s+3 pages\s+NORMAL\s+2 data \+ 1 zero$/);
  has(/^ {2}mask 0x2\s+0x100000–0x101fff\s+2 pages\s+NORMAL\s+data$/);
  has(/^ {2}mask 0x1\s+0x104000–0x105fff\s+2 pages\s+NORMAL\s+zero$/);
  has(/^ {2}mask 0x1\s+0x106000–0x106fff\s+1 page\s+CPUID_DATA\s+data$/);
  has(/^ {2}mask 0x1\s+0x108000–0x109fff\s+2 pages\s+NORMAL \[unmeasured\]\s+zero$/);
  has(/^Parameter areas:$/);
  has(/^ {2}area 0: 8 KiB$/);
  has(/^ {4}VP_COUNT_PARAMETER at byte 0x0$/);
  has(/^ {4}MEMORY_MAP at byte 0x8$/);
  has(/^ {4}inserted at 0x200000 \(mask 0x3\)$/);
  has(/^ {2}area 1: 4 KiB, with initial data$/);
  has(/^VP contexts:$/);
  has(/^ {2}SEV_SNP vp 0 \(vmsa at 0x300000\): 64-bit long mode$/);
  has(/^ {2}SEV_SNP vp 1 \(vmsa at 0x301000\): compatibility mode$/);
  has(/^ {2}NATIVE vp 0 \(native-x64\): 32-bit protected mode, no paging$/);
  has(/\brip=0x1234000\b/);
  has(/\bsev_features_names=SNP,RestrictInjection\b/);
  has(/^ {4}cs\s+sel 0x8 attr 0x29b limit 0xffffffff base 0x0$/);
  has(/^ {4}gdtr sel 0x0 attr 0x0 limit 0x1f base 0x5000$/);
  has(/^SNP ID block:$/);
  has(new RegExp(`^ {2}ld\\s+${Buffer.from(seq(48)).toString('hex')}$`));
  has(/^ {2}guest_svn\s+0x7$/);
  has(/^Other headers:$/);
  has(/^ {2}REQUIRED_MEMORY gpa=0x400000 compatibility_mask=0x2 number_of_bytes=0x10000 flags=0x1 reserved=0x0$/);
});

test('a parameter area that is never inserted is rendered as such', () => {
  const b = new IgvmBuilder();
  const m = b.platform('NATIVE');
  b.pageData(0x1000n, m);
  b.parameterArea(0, 0x1000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  const r = inspectIgvm(b.build());
  assert.deepEqual(r.parameter_areas[0]?.inserts, []);
  assert.match(renderInspect(r), /^ {4}never inserted$/m);
});

test('VP context platform with a duplicated mask: the last platform declaring it, as the decoder uses', () => {
  // NATIVE and SEV_ES both claim mask 0x1; the crate (and our decoder) map the mask to SEV_ES, so the context is a VMSA.
  const bytes = assembleWith({}, (ds) => ({
    records: [platform({ mask: 1, type: PLAT.NATIVE }), platform({ mask: 1, type: PLAT.SEV_ES }), vpContext(0x10000n, 1, ds)],
    data: new Uint8Array(4096),
  }));
  const r = inspectIgvm(parseIgvm(bytes));
  assert.deepEqual(r.vp_contexts.map((c) => [c.platform, c.kind]), [['SEV_ES', 'vmsa']]);
});

// ------------------------------------------------------------------------------------------ T_bzImage64

const VECTOR = join(EXPECTED, 'T_bzImage64.igvm');
const DUMP = join(EXPECTED, 'T_bzImage64.dump');

test('T_bzImage64: VMSA, policy, parameters and ID block', { skip: !existsSync(VECTOR) && 'vector not stored' }, () => {
  const r = inspectIgvm(parseIgvm(new Uint8Array(readFileSync(VECTOR))));
  assert.equal(r.fixed_header.checksum_ok, true);
  assert.equal(r.fixed_header.total_file_size, 0x2c1d8);
  assert.equal(r.fixed_header.variable_header_size, 0x31c0);
  assert.equal(r.platforms.length, 1);
  const p = r.platforms[0]!;
  assert.equal(p.platform_type, 'SEV_SNP');
  assert.equal(p.highest_vtl, 2);
  assert.equal(p.policy?.policy, 0x3001fn);
  assert.equal(p.policy?.decoded['smt'], true);
  assert.equal(p.policy?.decoded['reserved_must_be_one'], true);
  assert.equal(p.policy?.decoded['debug'], false);
  assert.equal(p.policy?.decoded['abi_minor'], 0x1f);

  assert.equal(r.vp_contexts.length, 1);
  const v = r.vp_contexts[0]!;
  assert.equal(v.kind, 'vmsa');
  assert.equal(v.gpa, 0x803000n);
  assert.equal(v.registers['rip'], 0x1a00200n);
  assert.equal(v.registers['cr0'], 0x80000001n);
  assert.equal(v.registers['efer'], 0x1d01n);
  assert.equal(v.mode, '64-bit long mode');
  assert.deepEqual(v.segments?.['gdtr'], { selector: 0, attrib: 0, limit: 0x37, base: 0x3470068n });
  assert.deepEqual(v.segments?.['cs'], { selector: 0x8, attrib: 0xa9b, limit: 0xffffffff, base: 0n });
  assert.deepEqual(v.segments?.['tr'], { selector: 0x28, attrib: 0x8b, limit: 0x67, base: 0x3470000n });

  assert.deepEqual(r.parameter_areas, [{
    parameter_area_index: 0, number_of_bytes: 0x1000n, initial_data: false,
    parameters: [{ type: 'VP_COUNT_PARAMETER', byte_offset: 0 }, { type: 'MEMORY_MAP', byte_offset: 0x18 }],
    inserts: [{ gpa: 0x802000n, compatibility_mask: 1 }],
  }]);
  const total = r.page_ranges.reduce((n, x) => n + x.pages, 0);
  assert.equal(total, r.header_counts['PAGE_DATA']);
  assert.ok(r.page_ranges.some((x) => x.data_type === 'CPUID_DATA' && x.gpa_start === 0x800000n));
  assert.ok(r.page_ranges.some((x) => x.data_type === 'SECRETS' && x.gpa_start === 0x801000n));

  assert.equal(r.snp_id_blocks.length, 1);
  const id = r.snp_id_blocks[0]!;
  assert.equal(id['version'], 1);
  assert.equal(id['guest_svn'], 2);
  assert.equal(id['id_key_algorithm'], 1);
  assert.equal(id['id_key_curve'], 2);
  assert.equal(id['family_id'], '01' + '00'.repeat(15));
  assert.equal(id['image_id'], '02' + '00'.repeat(15));

  const text = renderInspect(r, 'T_bzImage64.igvm');
  assert.match(text, /^ {2}SEV_SNP\s+mask 0x1\s+highest_vtl 2/m);
  assert.match(text, /^ {4}policy 0x3001f \(abi_minor=31, abi_major=0, smt, reserved_must_be_one\)$/m);
  assert.match(text, /^ {2}SEV_SNP vp 0 \(vmsa at 0x803000\): 64-bit long mode$/m);
  assert.match(text, /\brip=0x1a00200\b/);
  assert.match(text, /^ {4}gdtr sel 0x0 attr 0x0 limit 0x37 base 0x3470068$/m);
  assert.match(text, /^ {4}inserted at 0x802000 \(mask 0x1\)$/m);
});

/** "[1, 2, 3]" → hex of those bytes. */
const byteListHex = (list: string) => Buffer.from(list.split(',').map((s) => Number(s.trim()))).toString('hex');

test('T_bzImage64: the report agrees with the original igvmgen -d dump', { skip: (!existsSync(VECTOR) || !existsSync(DUMP)) && 'vector not stored' }, () => {
  const r = inspectIgvm(parseIgvm(new Uint8Array(readFileSync(VECTOR))));
  const dump = readFileSync(DUMP, 'utf8');
  const policy = /IGVM_VHT_SNP_POLICY\(\w+\)\{ Policy:(0x[0-9a-f]+)/.exec(dump);
  assert.equal(r.platforms[0]?.policy?.policy, BigInt(policy![1]!));
  const vmsa = dump.split('\n').find((l) => l.startsWith('IGVM_VHT_VP_CONTEXT') && l.includes('rip:'))!;
  const reg = (name: string) => BigInt(new RegExp(`\\b${name}:(0x[0-9a-f]+)`).exec(vmsa)![1]!);
  const v = r.vp_contexts[0]!;
  for (const name of ['rip', 'cr0', 'cr3', 'cr4', 'efer', 'rflags', 'rsp', 'rsi']) assert.equal(v.registers[name], reg(name), name);
  for (const s of ['cs', 'ds', 'tr', 'gdtr'] as const) {
    const m = new RegExp(`\\b${s}: \\{ selector:(0x[0-9a-f]+) attrib:(0x[0-9a-f]+) limit:(0x[0-9a-f]+) base:(0x[0-9a-f]+) \\}`).exec(vmsa)!;
    assert.deepEqual(v.segments?.[s], { selector: Number(m[1]), attrib: Number(m[2]), limit: Number(m[3]), base: BigInt(m[4]!) }, s);
  }
  const ld = /IGVM_VHT_SNP_ID_BLOCK\(\w+\)\{.*? Ld:\[([^\]]*)\]/.exec(dump)!;
  assert.equal(r.snp_id_blocks[0]?.['ld'], byteListHex(ld[1]!));
  const qx = /IdPublicKey: \{ Curve:0x2 Reserved:0x0 Qx:\[([^\]]*)\]/.exec(dump)!;
  assert.equal(r.snp_id_blocks[0]?.['id_public_key_qx'], byteListHex(qx[1]!).slice(0, 96));
  // Page counts: every PAGE_DATA line of the dump is one page of some range.
  const pageLines = dump.split('\n').filter((l) => l.startsWith('IGVM_VHT_PAGE_DATA(')).length;
  assert.equal(r.page_ranges.reduce((n, x) => n + x.pages, 0), pageLines);
});
