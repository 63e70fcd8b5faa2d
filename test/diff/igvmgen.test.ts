// Acceptance: two igvmgen images whose command lines differ in one character; the diff names the command-line page and nothing else.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS, manifest } from '../helpers.js';
import { walkRecords } from '../raw-igvm.js';
import { generateIgvmgen, DEFAULT_ID_BLOCK, type IgvmgenOptions } from '../../src/igvmgen/generate.js';
import { buildDefaultAcpi } from '../../src/acpi/default.js';
import { decodeAcpiZip } from '../../src/igvmgen/acpi-zip.js';
import { parseEcPrivateKey } from '../../src/crypto/ec-key.js';
import { parseIgvm } from '../../src/format/index.js';
import { diffIgvm, renderDiff, type HeaderDiff, type PageRangeDiff } from '../../src/diff/index.js';
import { measureSnp } from '../../src/measure/snp/index.js';

/** IgvmgenOptions from a manifest case's argument list (the options the bzImage cases use; -acpi_dir only as an acpi.zip snapshot). */
function optionsFromArgs(args: readonly string[], append: string): IgvmgenOptions {
  const v = new Map<string, string>();
  for (let i = 0; i < args.length; i++) if (args[i]!.startsWith('-')) v.set(args[i]!.slice(1), args[i + 1] ?? '');
  const bool = (k: string, d: boolean): boolean => (v.has(k) ? ['1', 'true'].includes(v.get(k)!.toLowerCase()) : d);
  const input = (k: string) => ({ name: v.get(k)!, bytes: new Uint8Array(readFileSync(join(VECTORS, v.get(k)!))) });
  const acpiDir = v.get('acpi_dir');
  assert.ok(acpiDir === undefined || acpiDir.endsWith('.zip'), 'no DSL folder (that needs iasl)');
  return {
    inform: (v.get('inform') ?? 'bzImage') as IgvmgenOptions['inform'], intel: (v.get('arch') ?? 'Intel') === 'Intel',
    bootMode: (v.get('boot_mode') ?? 'x86') as 'x86' | 'x64', kernel: input('kernel'), append,
    highestVtl: Number(v.get('vtl') ?? 2), pvalidateOpt: bool('pvalidate_opt', true), encryptedPage: bool('encrypted_page', true), svme: bool('svme', true),
    acpi: acpiDir ? decodeAcpiZip(new Uint8Array(readFileSync(join(VECTORS, acpiDir))), acpiDir) : buildDefaultAcpi({ vcpus: 1 }), idBlock: DEFAULT_ID_BLOCK,
    signKey: parseEcPrivateKey(readFileSync(join(VECTORS, v.get('sign_key')!)), 'sign_key.pem'), signDeterministic: bool('sign_deterministic', false),
  };
}

/** GPA → [record index among PAGE_DATA records, 4096 data bytes or undefined] straight from the bytes. */
function rawPages(bytes: Uint8Array): Map<bigint, { n: number; data: Uint8Array | undefined }> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<bigint, { n: number; data: Uint8Array | undefined }>();
  let n = 0;
  for (const r of walkRecords(bytes)) {
    if (r.type !== 0x302) continue;
    const gpa = dv.getBigUint64(r.body, true);
    const off = dv.getUint32(r.body + 12, true);
    out.set(gpa, { n: n++, data: off === 0 ? undefined : bytes.subarray(off, off + 4096) });
  }
  return out;
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  (a === undefined) === (b === undefined) && (a === undefined || a.every((x, i) => x === b![i]));

test('a one-character command-line change: the diff names the PAGE_DATA directive and GPA of the command-line page, and nothing else', () => {
  const c = manifest().find((m) => m.name === 'T_bzImage64')!;
  const args = c.args_for_igvmkit ?? c.args;
  const append = args[args.indexOf('-append') + 1]!;
  assert.equal(append, 'panic=-1 console=ttySEV0');
  const genA = generateIgvmgen(optionsFromArgs(args, append));
  assert.equal(Buffer.from(genA.launchDigest).toString('hex'), c.launch_digest, 'the manifest case itself');
  const bytesA = genA.bytes;
  const bytesB = generateIgvmgen(optionsFromArgs(args, append.replace('ttySEV0', 'ttySEV1'))).bytes;

  // Independently: the one PAGE_DATA record whose page bytes differ.
  const pa = rawPages(bytesA);
  const pb = rawPages(bytesB);
  assert.deepEqual([...pa.keys()], [...pb.keys()], 'same page GPAs in the same order');
  const differing = [...pa].filter(([gpa, p]) => !same(p.data, pb.get(gpa)!.data));
  assert.equal(differing.length, 1, 'exactly one page differs in the raw bytes');
  const [cmdGpa, { n: pageRecord, data }] = differing[0]!;
  assert.ok(new TextDecoder().decode(data).includes('console=ttySEV0'), 'that page holds the command line');
  const offsetInPage = [...data!].findIndex((x, i) => x !== pb.get(cmdGpa)!.data![i]);

  const A = parseIgvm(bytesA);
  const B = parseIgvm(bytesB);
  const index = A.directives.findIndex((d) => d.type === 'PAGE_DATA' && d.gpa === cmdGpa);
  assert.equal(A.directives.filter((d, i) => d.type === 'PAGE_DATA' && i < index).length, pageRecord, 'the same PAGE_DATA record');

  const diff = diffIgvm(A, B);
  assert.equal(diff.equal, false);
  assert.deepEqual(diff.platforms, []);
  assert.deepEqual(diff.initializations, []);
  assert.deepEqual(diff.fixed_header.changes, []);
  // Exactly the page and the SNP ID block (whose ld and signature must follow the launch digest).
  assert.deepEqual(diff.directives.map((d) => `${d.kind}/${d.change}/${d.kind === 'pages' ? '' : d.type}`), ['pages/changed/', 'header/changed/SNP_ID_BLOCK']);
  const page = diff.directives[0] as PageRangeDiff;
  assert.equal(page.gpa_start, cmdGpa);
  assert.equal(page.pages, 1);
  assert.equal(page.changed_pages, 1);
  assert.deepEqual(page.index_a, [index, index]);
  assert.deepEqual(page.index_b, [index, index]);
  assert.deepEqual(page.fields, []);
  assert.equal(page.listed[0]!.data!.first_offset, offsetInPage);
  assert.equal(page.listed[0]!.data!.bytes_differ, 1);
  assert.equal(page.listed[0]!.data!.byte_a, '0'.charCodeAt(0));
  assert.equal(page.listed[0]!.data!.byte_b, '1'.charCodeAt(0));
  const id = diff.directives[1] as HeaderDiff;
  assert.deepEqual(id.fields.map((f) => f.field).sort(), ['id_key_signature', 'ld']);
  assert.match(id.notes.join(' '), /ld is that file's SEV-SNP launch digest .*follow from the measured changes/);
  assert.deepEqual(id.registers, []);

  // The SEV-SNP measurement diverges at the step of that directive.
  assert.equal(diff.measurements.length, 1);
  const m = diff.measurements[0]!;
  assert.equal(m.platform, 'SEV_SNP');
  assert.equal(m.equal, false);
  const steps = measureSnp(A, 'igvm', { trace: true }).steps!;
  const expectedStep = steps.findIndex((s) => s.source === index);
  assert.equal(m.divergence!.step, expectedStep);
  assert.deepEqual(m.divergence!.a!.directive, { index, type: 'PAGE_DATA', gpa: cmdGpa });
  assert.deepEqual(m.divergence!.b!.directive, { index, type: 'PAGE_DATA', gpa: cmdGpa });

  const text = renderDiff(diff, 'a.igvm', 'b.igvm');
  const hex = `0x${cmdGpa.toString(16)}`;
  assert.match(diff.summary, new RegExp(`^A and B differ: 2 directives changed \\(PAGE_DATA at ${hex}, SNP_ID_BLOCK\\), SEV-SNP digest differs from step ${expectedStep} \\(PAGE_DATA #${index} at ${hex}\\)$`));
  assert.ok(text.includes(`changed  PAGE_DATA #${index} ${hex}–`), text);
  assert.ok(text.includes(`first at +0x${offsetInPage.toString(16)} (0x30 → 0x31)`), text);
});
