// Human-readable summary of a load plan: platform, memory, parameter areas as the guest reads them, vCPU state, SEV launch (QEMU-LOADER.md §3–§8).
import { pageDataTypeName } from '../spec/constants.js';
import { e820TypeName } from './e820.js';
import type {
  LoadFailure, LoadPlan, LoadResult, MemoryPopulation, ParameterAreaPlan, ParameterWrite, ResolvedQemuConfig, SegmentState, SnpPlan, VpState,
} from './plan.js';
import { flagsToDescriptorAttributes, flagsToVmsaAttrib, modeOf } from './qemu/cpu-state.js';
import { QEMU_PROGRAM } from './qemu/messages.js';

const hx = (v: number | bigint): string => `0x${v.toString(16)}`;
const MEMORY_TYPES = ['MEMORY', 'PLATFORM_RESERVED', 'PERSISTENT', 'VTL2_PROTECTABLE', 'SPECIFIC_PURPOSE', 'HIDDEN'];

export function sizeText(n: bigint): string {
  const units: [bigint, string][] = [[1n << 30n, 'GiB'], [1n << 20n, 'MiB'], [1n << 10n, 'KiB']];
  for (const [u, name] of units) if (n >= u && n % u === 0n) return `${n / u} ${name}`;
  return `${n} bytes`;
}

/** QEMU's stderr for a failure, one `qemu-system-x86_64: …` line each. */
export function renderFailure(f: LoadFailure): string {
  return f.stderr.map((l) => `${QEMU_PROGRAM}: ${l.level === 'warning' ? 'warning: ' : ''}${l.text}\n`).join('');
}

function configLine(c: ResolvedQemuConfig): string {
  const object = c.objectType === undefined ? 'no confidential-guest object' : `${c.objectType}${c.sevObject === 'sev-es' ? ' (ES policy)' : ''}`;
  return `QEMU 10.2: -machine ${c.machine}, -accel ${c.accel}, -m ${sizeText(c.memory)}, -smp ${c.vcpus}, -cpu ${c.cpu}, ${object}`;
}

export function renderLoad(r: LoadResult, name: string): string {
  const L: string[] = [`${name}: ${r.ok ? 'loads' : 'QEMU fails'}`, `  ${configLine(r.config)}`];
  if (!r.ok) {
    L.push(`  fails at ${r.failure.stage}${r.failure.directive !== undefined ? ` (directive ${r.failure.directive})` : ''}: ${r.failure.message}`);
    return L.join('\n') + '\n';
  }
  renderPlan(r.plan, L);
  return L.join('\n') + '\n';
}

function renderPlan(p: LoadPlan, L: string[]): void {
  L.push(`  platform ${p.platform.type}, mask ${hx(p.platform.mask)}`);
  L.push('', 'E820 (QEMU) → IGVM memory map:');
  for (const e of [...p.e820].sort((a, b) => (a.address < b.address ? -1 : 1))) L.push(`  ${hx(e.address).padStart(14)}–${hx(e.address + e.length - 1n).padEnd(14)} ${(e820TypeName(e.type) ?? `type ${e.type}`).padEnd(9)} page ${hx(e.address >> 12n)}, ${hx(e.length >> 12n)} pages`);
  L.push('', 'Memory regions (in the order QEMU populates them):');
  if (p.populations.length === 0) L.push('  (none)');
  for (const m of p.populations) L.push(populationLine(m));
  L.push('', 'Parameter areas:');
  if (p.parameterAreas.length === 0) L.push('  (none)');
  for (const a of p.parameterAreas) renderArea(a, L);
  L.push('', 'vCPUs:');
  for (const v of p.vps) renderVp(v, L);
  if (p.snp) renderSnp(p.snp, L);
  if (p.sev) {
    L.push('', `SEV launch: ${p.sev.launchUpdateData.length} LAUNCH_UPDATE_DATA call${p.sev.launchUpdateData.length === 1 ? '' : 's'}, ${p.sev.vmsaUpdates} VMSA${p.sev.vmsaUpdates === 1 ? '' : 's'}; policy ${hx(p.sev.launchPolicy)} (the file's GUEST_POLICY is not used)`);
    for (const d of p.sev.launchUpdateData) L.push(`  ${hx(d.gpa)}–${hx(d.gpa + d.length - 1n)} (directive ${d.directive}${d.count > 1 ? `–${d.directive + d.count - 1}` : ''})`);
  }
  if (p.warnings.length || p.notes.length) {
    L.push('', 'Notes:');
    for (const w of p.warnings) L.push(`  QEMU warning: ${w}`);
    for (const n of p.notes) L.push(`  ${n}`);
  }
}

function populationLine(m: MemoryPopulation): string {
  const range = `${hx(m.gpa).padStart(14)}–${hx(m.gpa + m.size - 1n).padEnd(14)}`;
  const dirs = m.count > 1 ? `directives ${m.directive}–${m.directive + m.count - 1}` : `directive ${m.directive}`;
  let what: string;
  if (m.source === 'parameter-area') what = `parameter area ${m.parameterArea ?? '?'}`;
  else if (m.source === 'required-memory') what = 'required memory';
  else {
    const pages = `${m.count} ${m.pageSize === 0x200000 ? '2 MiB ' : ''}page${m.count === 1 ? '' : 's'}`;
    what = `${m.source === 'zero' ? 'zero' : 'data'} ${pages} ${pageDataTypeName(m.dataType ?? 0)}${m.flags ? ` flags ${hx(m.flags)}` : ''}`;
  }
  const ram = `${m.ram.name}${m.ram.created ? ' (new)' : `+${hx(m.ram.offset)}`}${m.ram.readonly ? ' read-only' : ''}`;
  const sev = m.sevType === undefined ? '' : `  ${m.sevType}${m.measured ? ' measured' : ''}`;
  return `  ${range} ${what}, ${dirs}, ${ram}${sev}`;
}

function renderArea(a: ParameterAreaPlan, L: string[]): void {
  const where = a.insertedAt ? `inserted at ${hx(a.insertedAt.gpa)} (directive ${a.insertedAt.directive})` : 'never inserted';
  L.push(`  area ${a.index}: ${sizeText(BigInt(a.size))}, ${where}${a.fileDataIgnored ? '; initial data in the file ignored (zero-filled)' : ''}`);
  for (const w of a.writes) L.push(`    ${writeLine(w)}`);
  if (a.writes.length === 0) L.push('    (no parameters)');
}

function writeLine(w: ParameterWrite): string {
  const at = w.byteOffset === w.writtenAt ? `at ${hx(w.writtenAt)}` : `declared at ${hx(w.byteOffset)}, written at ${hx(w.writtenAt)}`;
  switch (w.type) {
    case 'VP_COUNT_PARAMETER':
      return `VP_COUNT ${at}: ${w.value}`;
    case 'ENVIRONMENT_INFO_PARAMETER':
      return `ENVIRONMENT_INFO ${at}: ${hx(w.value)} (memory_is_shared=${w.value & 1})`;
    case 'MEMORY_MAP': {
      const entries = (w.entries ?? []).map((e) => `page ${hx(e.startingPage)} ×${hx(e.pageCount)} ${MEMORY_TYPES[e.entryType] ?? e.entryType}`);
      return `MEMORY_MAP ${at}: ${w.value} entr${w.value === 1 ? 'y' : 'ies'}${entries.length ? ` — ${entries.join('; ')}` : ''}`;
    }
  }
}

function segText(name: string, s: SegmentState, vmsaForm: boolean): string {
  const attr = vmsaForm ? flagsToVmsaAttrib(s.flags) : flagsToDescriptorAttributes(s.flags);
  return `${name} ${hx(s.selector)} base ${hx(s.base)} limit ${hx(s.limit)} attr ${hx(attr)}`;
}

function renderVp(v: VpState, L: string[]): void {
  const r = v.registers;
  const src = v.source === 'igvm-native' ? `native context (directive ${v.directive ?? '?'})` : v.source === 'igvm-vmsa' ? `VMSA (directive ${v.directive ?? '?'})` : 'reset state';
  L.push(`  vp ${v.vp}${v.vp === 0 ? ' (BSP)' : ''}: ${src}, ${modeOf(r)}`);
  L.push(`    rip=${hx(r.rip)} rsp=${hx(r.rsp)} rsi=${hx(r.rsi)} rflags=${hx(r.rflags)} cr0=${hx(r.cr0)} cr3=${hx(r.cr3)} cr4=${hx(r.cr4)} efer=${hx(r.efer)}`);
  const vmsa = v.kvmVmsa !== undefined;
  L.push(`    ${segText('cs', r.cs, vmsa)}; ${segText('ds', r.ds, vmsa)}`);
  L.push(`    gdtr ${hx(r.gdtr.base)}/${hx(r.gdtr.limit)} idtr ${hx(r.idtr.base)}/${hx(r.idtr.limit)}`);
}

function renderSnp(s: SnpPlan, L: string[]): void {
  const counts = new Map<string, number>();
  for (const u of s.launchUpdates) counts.set(u.type, (counts.get(u.type) ?? 0) + 1);
  const parts = [...counts].map(([t, n]) => `${t} ${n}`).join(', ');
  L.push('', `SEV-SNP launch updates: ${s.launchUpdates.length} pages (${parts}), in KVM's order:`);
  let run: { from: bigint; to: bigint; type: string; first: number | undefined; last: number | undefined; n: number } | undefined;
  const flush = (): void => {
    if (!run) return;
    const dirs = run.first === undefined ? '' : run.last !== run.first ? ` (directives ${run.first}–${run.last ?? '?'})` : ` (directive ${run.first})`;
    L.push(`  ${hx(run.from).padStart(14)}${run.n > 1 ? `–${hx(run.to + 0xfffn)}` : ''} ${run.type}${run.n > 1 ? ` ×${run.n}` : ''}${dirs}`);
  };
  for (const u of s.launchUpdates) {
    if (u.type === 'VMSA') {
      flush();
      run = undefined;
      L.push(`  ${hx(u.gpa).padStart(14)} VMSA of vCPU ${u.vcpu ?? '?'}`);
      continue;
    }
    const d = u.directive;
    const sameRun = run && run.type === u.type && u.gpa === run.to + 0x1000n && d !== undefined && run.last !== undefined && (d === run.last || d === run.last + 1);
    if (run && sameRun) {
      run.to = u.gpa;
      run.last = d;
      run.n++;
      continue;
    }
    flush();
    run = { from: u.gpa, to: u.gpa, type: u.type, first: d, last: d, n: 1 };
  }
  flush();
  L.push(`  launch policy ${hx(s.launchPolicy)} (sev-snp-guest object), GUEST_POLICY ${hx(s.guestPolicy)}, SEV_FEATURES ${hx(s.sevFeatures)}`);
  if (s.idBlock) L.push(`  ID block from directive ${s.idBlock.directive} (version forced to 1, policy ${hx(s.guestPolicy)}), author key ${s.idBlock.authorKeyEnabled ? 'enabled' : 'not enabled'}`);
  else L.push('  no ID block');
}
