// Human-readable rendering of the inspect report (FORMAT.md terms, hex addresses).
import type { InspectReport } from './report.js';

const hx = (v: number | bigint) => '0x' + v.toString(16);
const size = (n: bigint | number) => {
  const b = Number(n);
  if (b >= 1 << 20 && b % (1 << 20) === 0) return `${b / (1 << 20)} MiB`;
  if (b >= 1024 && b % 1024 === 0) return `${b / 1024} KiB`;
  return `${b} B`;
};

export function renderInspect(r: InspectReport, name = ''): string {
  const L: string[] = [];
  const f = r.fixed_header;
  L.push(`${name ? name + ': ' : ''}IGVM format v${f.format_version}, ${f.architecture}, page size ${hx(f.page_size)}`);
  L.push(`  variable headers at ${hx(f.variable_header_offset)}, ${hx(f.variable_header_size)} bytes; file ${hx(f.total_file_size)} bytes; checksum ${hx(f.checksum)}${f.checksum_ok === false ? ' (WRONG)' : f.checksum_ok ? ' (ok)' : ''}`);
  L.push('', 'Platforms:');
  for (const p of r.platforms) {
    L.push(`  ${p.platform_type.padEnd(13)} mask ${hx(p.compatibility_mask)}  highest_vtl ${p.highest_vtl}  version ${p.platform_version}  shared_gpa_boundary ${hx(p.shared_gpa_boundary)}`);
    if (p.policy) {
      const bits = Object.entries(p.policy.decoded).map(([k, v]) => (typeof v === 'boolean' ? (v ? k : '') : `${k}=${v}`)).filter(Boolean);
      L.push(`    policy ${hx(p.policy.policy)}${bits.length ? ' (' + bits.join(', ') + ')' : ''}`);
    }
  }
  L.push('', 'Headers:');
  for (const [t, n] of Object.entries(r.header_counts)) L.push(`  ${t.padEnd(28)} ${n}`);
  if (r.page_ranges.length) {
    L.push('', 'Page data (GPA ranges):');
    for (const p of r.page_ranges) {
      const kind = p.data_pages === 0 ? 'zero' : p.zero_pages === 0 ? 'data' : `${p.data_pages} data + ${p.zero_pages} zero`;
      const flags = p.flag_names.length ? ` [${p.flag_names.join(',')}]` : p.flags ? ` [flags ${hx(p.flags)}]` : '';
      L.push(`  mask ${hx(p.compatibility_mask)}  ${hx(p.gpa_start).padStart(12)}–${hx(p.gpa_end - 1n).padEnd(12)} ${String(p.pages).padStart(6)} page${p.pages === 1 ? ' ' : 's'}  ${p.data_type}${flags}  ${kind}`);
    }
  }
  if (r.parameter_areas.length) {
    L.push('', 'Parameter areas:');
    for (const a of r.parameter_areas) {
      L.push(`  area ${a.parameter_area_index}: ${size(a.number_of_bytes)}${a.initial_data ? ', with initial data' : ''}`);
      for (const p of a.parameters) L.push(`    ${p.type} at byte ${hx(p.byte_offset)}`);
      for (const i of a.inserts) L.push(`    inserted at ${hx(i.gpa)} (mask ${hx(i.compatibility_mask)})`);
      if (a.inserts.length === 0) L.push('    never inserted');
    }
  }
  if (r.vp_contexts.length) {
    L.push('', 'VP contexts:');
    for (const c of r.vp_contexts) {
      L.push(`  ${c.platform} vp ${c.vp_index} (${c.kind}${c.kind === 'vmsa' ? ` at ${hx(c.gpa)}` : ''})${c.mode ? ': ' + c.mode : ''}`);
      const regs = Object.entries(c.registers).map(([k, v]) => `${k}=${typeof v === 'string' ? v || '-' : hx(v)}`);
      for (let i = 0; i < regs.length; i += 6) L.push('    ' + regs.slice(i, i + 6).join(' '));
      for (const [s, v] of Object.entries(c.segments ?? {})) L.push(`    ${s.padEnd(4)} sel ${hx(v.selector)} attr ${hx(v.attrib)} limit ${hx(v.limit)} base ${hx(v.base)}`);
    }
  }
  for (const b of r.snp_id_blocks) {
    L.push('', 'SNP ID block:');
    for (const [k, v] of Object.entries(b)) L.push(`  ${k.padEnd(22)} ${typeof v === 'number' ? hx(v) : String(v)}`);
  }
  if (r.other_headers.length) {
    L.push('', 'Other headers:');
    for (const h of r.other_headers) {
      const fields = Object.entries(h).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${typeof v === 'bigint' || typeof v === 'number' ? hx(v) : v instanceof Uint8Array ? `[${v.length} bytes]` : String(v)}`);
      L.push(`  ${String(h['type'])} ${fields.join(' ')}`);
    }
  }
  return L.join('\n') + '\n';
}
