// diffIgvm on built and stored files: equality kinds, added/removed headers, page ranges, registers, policies, platforms, JSON, mirror property.
import test from 'node:test';
import assert from 'node:assert/strict';
import { manifest, rng, storedVectors } from '../helpers.js';
import { measureSnp } from '../../src/measure/snp/index.js';
import { IgvmBuilder } from '../../src/builder.js';
import { parseIgvm } from '../../src/format/index.js';
import { serializeIgvm } from '../../src/format/serialize.js';
import { toJson } from '../../src/cli/json.js';
import { diffIgvm, renderDiff, type DirectiveDiff, type HeaderDiff, type IgvmDiff, type PageRangeDiff } from '../../src/diff/index.js';
import type { IgvmFile } from '../../src/model.js';

const page = (seed: number): Uint8Array => {
  const p = new Uint8Array(4096);
  for (let i = 0; i < p.length; i++) p[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return p;
};

interface Spec {
  pages?: number;
  /** GPA page numbers (from 0x100) whose data gets another seed. */
  changed?: number[];
  skip?: number[];
  rip?: bigint;
  policy?: bigint;
  extraRequiredMemory?: boolean;
  tdx?: boolean;
}

/** A SEV-SNP file: policy, `pages` pages from 0x100000, a VMSA, optionally a TDX platform with its own pages. */
function build(s: Spec = {}): IgvmFile {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  const t = s.tdx ? b.platform('TDX') : 0;
  b.guestPolicy(s.policy ?? 0x30000n, m);
  const n = s.pages ?? 20;
  for (let i = 0; i < n; i++) {
    if (s.skip?.includes(i)) continue;
    b.pageData(0x100000n + BigInt(i) * 0x1000n, m, page(s.changed?.includes(i) ? i + 1000 : i));
    if (s.extraRequiredMemory && i === 5) b.requiredMemory(0x800000n, m, 0x2000);
  }
  b.vmsa(0x900000n, m, 0, { rip: s.rip ?? 0xfff0n, rsp: 0x8000n, cr0: 0x11n, efer: 0x1000n });
  if (t) for (let i = 0; i < 4; i++) b.pageData(0x200000n + BigInt(i) * 0x1000n, t, page(i + 50));
  return b.build();
}

const kinds = (d: IgvmDiff): string[] => d.directives.map((x) => `${x.change} ${x.kind === 'pages' ? `pages 0x${x.gpa_start.toString(16)}+${x.pages}` : x.type}`);

test('identical files: equal, identical, no entries, "files are identical"', () => {
  const a = build();
  const d = diffIgvm(a, parseIgvm(a.source!.bytes.slice()));
  assert.equal(d.equal, true);
  assert.equal(d.identical, true);
  assert.equal(d.summary, 'files are identical');
  assert.deepEqual([d.platforms, d.initializations, d.directives], [[], [], []]);
  assert.equal(d.measurements.length, 1);
  assert.equal(d.measurements[0]!.equal, true);
  assert.match(renderDiff(d), /^files are identical$/m);
});

test('a stored vector and its compact re-serialization: structurally equal, byte layout differs', () => {
  const v = storedVectors().find((x) => x.name === 'T_bzImage')!;
  const a = parseIgvm(v.bytes);
  const compact = serializeIgvm(a, { mode: 'compact' });
  const b = parseIgvm(compact);
  const d = diffIgvm(a, b);
  assert.equal(d.equal, true, d.summary);
  assert.equal(d.identical, false);
  assert.match(d.summary, /^files are structurally equal \(byte layout differs: .+\)$/);
  // igvmgen's originals pad the VP_CONTEXT record with '0' bytes; the compact writer pads with zeros.
  assert.match(d.summary, /first differing byte at 0x[0-9a-f]+ \(record padding\)/);
  assert.equal(d.fixed_header.first_byte_difference?.region, 'record padding');
  assert.deepEqual(d.directives, []);
  assert.equal(d.measurements[0]!.equal, true);
  // B's digest (taken over from A for structurally equal files) is B's own: the manifest launch digest.
  const want = manifest().find((c) => c.name === 'T_bzImage')?.launch_digest;
  assert.equal(Buffer.from(d.measurements[0]!.b?.digest ?? []).toString('hex'), want);
  assert.equal(Buffer.from(measureSnp(b, 'igvm').digest).toString('hex'), want);
});

test('added and removed headers are reported as such and do not shift the rest', () => {
  const a = build();
  const b = build({ skip: [12], extraRequiredMemory: true });
  const d = diffIgvm(a, b);
  assert.equal(d.equal, false);
  assert.deepEqual(kinds(d), ['added REQUIRED_MEMORY', 'removed pages 0x10c000+1']);
  const rm = d.directives[0] as HeaderDiff;
  assert.equal(rm.index_b, 6);
  assert.equal(rm.gpa, 0x800000n);
  const removed = d.directives[1] as PageRangeDiff;
  assert.deepEqual(removed.index_a, [12, 12]);
  assert.equal(removed.data_pages, 1);
  assert.match(d.summary, /1 directive added \(REQUIRED_MEMORY at 0x800000\), 1 directive removed \(PAGE_DATA at 0x10c000\)/);
  // The reverse direction mirrors it.
  assert.deepEqual(kinds(diffIgvm(b, a)), ['removed REQUIRED_MEMORY', 'added pages 0x10c000+1']);
});

test('100 consecutive changed pages are one range; the listed pages are limited and the rest counted', () => {
  const all = Array.from({ length: 100 }, (_, i) => i + 10);
  const a = build({ pages: 150 });
  const b = build({ pages: 150, changed: all });
  const d = diffIgvm(a, b, { limit: 5 });
  assert.deepEqual(kinds(d), ['changed pages 0x10a000+100']);
  const r = d.directives[0] as PageRangeDiff;
  assert.equal(r.changed_pages, 100);
  assert.equal(r.listed.length, 5);
  assert.equal(r.more, 95);
  assert.deepEqual(r.index_a, [10, 109]);
  assert.equal(r.listed[0]!.data!.first_offset, 0);
  assert.match(renderDiff(d), /… and 95 more pages/);
  // Scattered pages close together share a range; far apart ones do not.
  const near = diffIgvm(a, build({ pages: 150, changed: [20, 25, 30] }));
  assert.deepEqual(kinds(near), ['changed pages 0x114000+11']);
  assert.equal((near.directives[0] as PageRangeDiff).changed_pages, 3);
  const far = diffIgvm(a, build({ pages: 150, changed: [20, 120] }), { gap: 16 });
  assert.deepEqual(kinds(far), ['changed pages 0x114000+1', 'changed pages 0x178000+1']);
});

test('a VP context change names the register', () => {
  const d = diffIgvm(build(), build({ rip: 0x1234n }));
  assert.deepEqual(kinds(d), ['changed VP_CONTEXT']);
  const h = d.directives[0] as HeaderDiff;
  assert.deepEqual(h.registers, [{ register: 'rip', a: 0xfff0n, b: 0x1234n }]);
  assert.match(renderDiff(d), /rip 0xfff0 → 0x1234/);
  assert.match(d.summary, /1 directive changed \(VP_CONTEXT at 0x900000\), SEV-SNP digest differs from step 20 \(VP_CONTEXT #20 at 0x900000\)/);
});

test('VBS and native contexts: register lists by name', () => {
  const vbs = (rip: bigint, extra: boolean): IgvmFile => {
    const b = new IgvmBuilder();
    const m = b.platform('VSM_ISOLATION');
    b.pageData(0x1000n, m, page(1));
    const v = (x: bigint): Uint8Array => { const o = new Uint8Array(16); new DataView(o.buffer).setBigUint64(0, x, true); return o; };
    b.vbsContext(m, 0, [{ register_name: 0x20010, value: v(rip) }, { register_name: 0x40000, value: v(0x11n) }, ...(extra ? [{ register_name: 0x20004, value: v(0x8000n) }] : [])]);
    return b.build();
  };
  const d = diffIgvm(vbs(0x1000n, false), vbs(0x2000n, true));
  assert.deepEqual((d.directives[0] as HeaderDiff).registers, [{ register: 'Rip', a: 0x1000n, b: 0x2000n }, { register: 'Rsp', a: undefined, b: 0x8000n }]);
  const m = d.measurements.find((x) => x.platform === 'VSM_ISOLATION')!;
  assert.equal(m.equal, false);
  const native = (rip: bigint): IgvmFile => {
    const b = new IgvmBuilder();
    const n = b.platform('NATIVE');
    b.pageData(0x1000n, n, page(1)).nativeContext(n, 0, { rip, cr0: 1n });
    return b.build();
  };
  const dn = diffIgvm(native(1n), native(2n));
  assert.deepEqual((dn.directives[0] as HeaderDiff).registers, [{ register: 'rip', a: 1n, b: 2n }]);
  assert.deepEqual(dn.measurements, [], 'NATIVE has no measurement');
});

test('GUEST_POLICY change: decoded SNP policy bits', () => {
  const d = diffIgvm(build(), build({ policy: 0x30000n | (1n << 19n) }));
  assert.equal(d.initializations.length, 1);
  const p = d.initializations[0]!;
  assert.equal(p.type, 'GUEST_POLICY');
  assert.deepEqual(p.fields, [{ field: 'policy', a: 0x30000n, b: 0xb0000n }]);
  assert.deepEqual(p.policy_bits, [{ field: 'policy.debug', a: false, b: true }]);
  assert.match(renderDiff(d), /policy 0x30000 → 0xb0000 \(policy.debug false → true\)/);
});

test('a platform added: reported, its measurement shown for one side only, the SEV-SNP digest unchanged', () => {
  const d = diffIgvm(build(), build({ tdx: true }));
  assert.deepEqual(d.platforms.map((p) => `${p.change} ${p.platform}`), ['added TDX']);
  assert.deepEqual(kinds(d), ['added pages 0x200000+4']);
  const snp = d.measurements.find((m) => m.platform === 'SEV_SNP')!;
  const tdx = d.measurements.find((m) => m.platform === 'TDX')!;
  assert.equal(snp.equal, true);
  assert.equal(tdx.a, undefined);
  assert.match(Buffer.from(tdx.b!.digest!).toString('hex'), /^[0-9a-f]{96}$/);
  assert.match(d.summary, /1 platform added \(TDX\).*TDX only in B/);
  assert.match(renderDiff(d), /TDX \(MRTD, microsoft\/igvm crate rule\): only in B/);
});

test('a model that cannot measure a side reports its error instead of throwing', () => {
  const noPolicy = (): IgvmFile => {
    const b = new IgvmBuilder();
    const m = b.platform('SEV_SNP');
    b.pageData(0x1000n, m, page(1));
    return b.build();
  };
  const d = diffIgvm(noPolicy(), build());
  const snp = d.measurements[0]!;
  assert.match(snp.a!.error!, /\[measure-/);
  assert.ok(snp.b!.digest);
  assert.match(renderDiff(d), /A: cannot measure: /);
});

test('--json material: toJson(diff) parses and keeps the structure', () => {
  const d = diffIgvm(build(), build({ changed: [3], rip: 5n }));
  const j = JSON.parse(toJson(d)) as { equal: boolean; summary: string; directives: { kind: string; gpa_start?: string; registers?: { register: string; b: string }[] }[] };
  assert.equal(j.equal, false);
  assert.equal(j.summary, d.summary);
  assert.equal(j.directives[0]!.gpa_start, '0x103000');
  assert.deepEqual(j.directives[1]!.registers, [{ register: 'rip', a: '0xfff0', b: '0x5' }]);
});

function mirror(x: DirectiveDiff): string {
  const change = x.change === 'added' ? 'removed' : x.change === 'removed' ? 'added' : 'changed';
  return x.kind === 'pages' ? `${change}/${x.gpa_start}/${x.pages}` : `${change}/${x.type}/${x.index_b}/${x.index_a}`;
}
const own = (x: DirectiveDiff): string => (x.kind === 'pages' ? `${x.change}/${x.gpa_start}/${x.pages}` : `${x.change}/${x.type}/${x.index_a}/${x.index_b}`);

test('property: diff(A, A) is empty and diff(A, B) mirrors diff(B, A) on random files', () => {
  const r = rng(7);
  const files: IgvmFile[] = [];
  for (let k = 0; k < 12; k++) {
    const n = 5 + Math.floor(r() * 40);
    const pick = (): number[] => Array.from({ length: Math.floor(r() * 5) }, () => Math.floor(r() * n));
    files.push(build({ pages: n, changed: pick(), skip: pick(), rip: r() < 0.5 ? 1n : 2n, extraRequiredMemory: r() < 0.3, tdx: r() < 0.3 }));
  }
  for (const a of files) {
    const d = diffIgvm(a, a);
    assert.equal(d.equal, true);
    assert.deepEqual(d.directives, []);
  }
  for (let i = 0; i + 1 < files.length; i++) {
    const a = files[i]!;
    const b = files[i + 1]!;
    const ab = diffIgvm(a, b);
    const ba = diffIgvm(b, a);
    assert.equal(ab.equal, ba.equal);
    assert.deepEqual(ab.directives.map(mirror).sort(), ba.directives.map(own).sort(), `pair ${i}`);
    assert.deepEqual(ab.platforms.map((p) => p.platform), ba.platforms.map((p) => p.platform));
    for (const [x, y] of ab.measurements.map((m, k) => [m, ba.measurements[k]!] as const)) {
      assert.equal(x.platform, y.platform);
      assert.equal(x.equal, y.equal);
      assert.equal(x.divergence?.step, y.divergence?.step);
    }
  }
});

test('TDX, VBS and SEV-ES measurements: digests per side and the first diverging step with its directive', () => {
  for (const type of ['TDX', 'VSM_ISOLATION', 'SEV_ES'] as const) {
    const file = (changedPage: number | undefined): IgvmFile => {
      const b = new IgvmBuilder();
      const m = b.platform(type);
      for (let i = 0; i < 6; i++) b.pageData(0x10000n + BigInt(i) * 0x1000n, m, page(i === changedPage ? 99 : i));
      if (type === 'SEV_ES') b.vmsa(0x80000n, m, 0, { rip: 0xfff0n });
      return b.build();
    };
    const d = diffIgvm(file(undefined), file(4));
    assert.deepEqual(kinds(d), ['changed pages 0x14000+1'], type);
    const m = d.measurements.find((x) => x.platform === type)!;
    assert.equal(m.equal, false, type);
    assert.ok(m.a!.digest && m.b!.digest, type);
    assert.ok(m.divergence, `${type}: traced`);
    assert.deepEqual(m.divergence.a!.directive, { index: 4, type: 'PAGE_DATA', gpa: 0x14000n }, type);
    assert.deepEqual(m.divergence.b!.directive, { index: 4, type: 'PAGE_DATA', gpa: 0x14000n }, type);
    assert.equal(diffIgvm(file(2), file(2)).measurements.find((x) => x.platform === type)!.equal, true);
  }
});

test('field-level changes: parameter area contents, parameter offset, insert GPA, ID block, format version; zero page vs zero data', () => {
  const file = (v: 1 | 2, alt: boolean): IgvmFile => {
    const b = new IgvmBuilder({ formatVersion: v });
    const m = b.platform('SEV_SNP');
    b.guestPolicy(0x30000n, m);
    b.parameterArea(0, 0x2000n, alt ? Uint8Array.of(1, 2, 9) : Uint8Array.of(1, 2, 3)).parameter('MEMORY_MAP', 0, alt ? 0x18 : 0);
    b.parameterInsert(alt ? 0x20000n : 0x10000n, m, 0);
    b.pageData(0x30000n, m, alt ? new Uint8Array(4096) : undefined);
    b.snpIdBlock({ compatibility_mask: m, guest_svn: alt ? 2 : 1 });
    return b.build();
  };
  const d = diffIgvm(file(1, false), file(2, true));
  assert.deepEqual(d.fixed_header.changes, [{ field: 'format_version', a: 1, b: 2 }]);
  assert.deepEqual(kinds(d), ['changed PARAMETER_AREA', 'changed MEMORY_MAP', 'changed PARAMETER_INSERT', 'changed pages 0x30000+1', 'changed SNP_ID_BLOCK']);
  const [area, param, insert, zero, id] = d.directives as [HeaderDiff, HeaderDiff, HeaderDiff, PageRangeDiff, HeaderDiff];
  assert.deepEqual(area.data, { size_a: 0x2000, size_b: 0x2000, first_offset: 2, bytes_differ: 1, byte_a: 3, byte_b: 9 });
  assert.deepEqual(param.fields, [{ field: 'byte_offset', a: 0, b: 0x18 }]);
  assert.deepEqual(insert.fields, [{ field: 'gpa', a: 0x10000n, b: 0x20000n }]);
  assert.equal(zero.listed[0]!.data!.first_offset, undefined);
  assert.equal(zero.listed[0]!.data!.size_b, 4096);
  assert.deepEqual(id.fields, [{ field: 'guest_svn', a: 1, b: 2 }]);
  const text = renderDiff(d);
  assert.match(text, /data: no data \(zeros\) → 4096 bytes \(same contents once zero-filled\)/);
  assert.match(text, /changed  format_version 1 → 2/);
  // A model without source bytes: equality is structural only.
  const { source: _s, ...bare } = file(1, false);
  const eq = diffIgvm(bare, file(1, false));
  assert.equal(eq.identical, undefined);
  assert.equal(eq.summary, 'files are structurally equal');
});

test('pages whose header fields change the same way form one range; data types by name', () => {
  const file = (flags: number, dataType: number): IgvmFile => {
    const b = new IgvmBuilder();
    const m = b.platform('SEV_SNP');
    b.guestPolicy(0x30000n, m);
    for (let i = 0; i < 10; i++) b.pageData(0x1000n * BigInt(i + 1), m, page(i), { flags: i < 6 ? flags : 0, dataType: i === 9 ? dataType : 0 });
    return b.build();
  };
  const d = diffIgvm(file(0, 0), file(2, 2));
  assert.deepEqual(kinds(d), ['changed pages 0x1000+6', 'changed pages 0xa000+1']);
  assert.deepEqual((d.directives[0] as PageRangeDiff).fields, [{ field: 'flags', a: 0, b: 2 }]);
  assert.deepEqual((d.directives[1] as PageRangeDiff).fields, [{ field: 'data_type', a: 'NORMAL', b: 'CPUID_DATA' }]);
  assert.match(renderDiff(d), /header: flags 0 → 2/);
});

test('vmm/vcpus: the SEV-SNP measurements use the chosen model, and the vCPU count of the KVM-based ones', () => {
  const a = build();
  const b = build({ changed: [7] });
  for (const [vmm, vcpus] of [['clh-mshv', 1], ['clh-kvm', 3]] as const) {
    const d = diffIgvm(a, b, { vmm, vcpus });
    const m = d.measurements.find((x) => x.platform === 'SEV_SNP')!;
    assert.equal(Buffer.from(m.a?.digest ?? []).toString('hex'), Buffer.from(measureSnp(a, vmm, { vcpus }).digest).toString('hex'), vmm);
    assert.equal(Buffer.from(m.b?.digest ?? []).toString('hex'), Buffer.from(measureSnp(b, vmm, { vcpus }).digest).toString('hex'), vmm);
    assert.match(m.model, new RegExp(`^launch digest, ${vmm}: `));
    assert.equal(m.divergence?.a?.directive?.type, 'PAGE_DATA');
    assert.equal(m.divergence?.a?.gpa, 0x107000n);
  }
  const kvm1 = diffIgvm(a, a, { vmm: 'clh-kvm', vcpus: 1 }).measurements[0]!.a?.digest;
  const kvm3 = diffIgvm(a, a, { vmm: 'clh-kvm', vcpus: 3 }).measurements[0]!.a?.digest;
  assert.notEqual(Buffer.from(kvm1 ?? []).toString('hex'), Buffer.from(kvm3 ?? []).toString('hex'));
});
