// `npm start`: builds a two-platform example with the builder API and an igvmgen image of a synthetic bzImage, validates and inspects them.
import { join } from 'node:path';
import { IgvmBuilder, validateIgvm, parseIgvm, inspectIgvm, renderInspect, generateIgvmgen, buildDefaultAcpi, DEFAULT_ID_BLOCK, randomP384Key, measurementJson } from '../index.js';
import { toHex } from '../bytes.js';
import { writeAtomic, ensureDir } from '../io/files.js';
import { installNodeHash } from '../io/node-hash.js';
import { installNodeEc } from '../io/node-ec.js';
import { makeBzImage, pseudoRandom } from './synthetic-bzimage.js';

/** A 64-bit guest stub: SEV-SNP (VMSA at 0xFFFFFFFFF000, as QEMU/KVM expects) and NATIVE, sharing code pages. */
export function buildExample(): Uint8Array {
  const b = new IgvmBuilder();
  const snp = b.platform('SEV_SNP', { highestVtl: 0 });
  const native = b.platform('NATIVE');
  b.guestPolicy(0x30000n, snp);
  const code = new Uint8Array(0x2000);
  code.set([0xf4, 0xeb, 0xfd], 0); // hlt; jmp $-1
  b.pages(0x100000n, code, snp | native);
  b.pageData(0x200000n, snp, undefined, { dataType: 1 }); // secrets page
  b.pageData(0x201000n, snp, undefined, { dataType: 2 }); // CPUID page (empty table)
  b.parameterArea(0, 0x1000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameter('ENVIRONMENT_INFO_PARAMETER', 0, 4);
  b.parameterInsert(0x202000n, snp | native, 0);
  b.parameterArea(1, 0x1000n);
  b.parameter('MEMORY_MAP', 1, 0);
  b.parameterInsert(0x203000n, snp | native, 1);
  const seg = { selector: 0x18, attrib: 0xc93, limit: 0xffffffff, base: 0n };
  b.vmsa(0xfffffffff000n, snp, 0, {
    cs: { selector: 0x8, attrib: 0xa9b, limit: 0xffffffff, base: 0n }, ds: seg, es: seg, ss: seg,
    cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x20n, efer: 0xd00n, rip: 0x100000n, rflags: 2n, xcr0: 1n, pat: 0x7040600070406n, sev_features: 1n,
  });
  b.nativeContext(native, 0, {
    rip: 0x100000n, rflags: 2n, cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x20n, efer: 0xd00n,
    code_selector: 0x8, code_attributes: 0xa09b, code_limit: 0xffffffff, data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff,
  });
  return b.toBytes();
}

/** igvmgen on a synthetic 1 MiB bzImage with igvmkit's own ACPI tables (no iasl); a fresh key, so the digest is stable but the signature is not. */
export function buildIgvmgenExample(): { bytes: Uint8Array; launchDigest: string } {
  const kernel = makeBzImage({ payload: pseudoRandom(1 << 20, 2024), prefAddress: 0x1000000, initSize: 0x2000000 });
  const r = generateIgvmgen({
    inform: 'bzImage', intel: true, bootMode: 'x64', kernel: { name: 'synthetic-bzImage', bytes: kernel }, append: 'console=ttyS0',
    highestVtl: 2, pvalidateOpt: true, encryptedPage: true, svme: true, acpi: buildDefaultAcpi({ vcpus: 1 }),
    idBlock: DEFAULT_ID_BLOCK, signKey: randomP384Key(), signDeterministic: false,
  });
  return { bytes: r.bytes, launchDigest: toHex(r.launchDigest) };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  installNodeHash();
  installNodeEc();
  const bytes = buildExample();
  const dir = 'out';
  ensureDir(dir);
  const path = join(dir, 'example.igvm');
  writeAtomic(path, bytes);
  const v = validateIgvm(bytes);
  const gen = buildIgvmgenExample();
  const genPath = join(dir, 'igvmgen-example.igvm');
  writeAtomic(genPath, gen.bytes);
  writeAtomic(join(dir, 'igvmgen-example.measurement.json'), measurementJson('0', gen.launchDigest));
  const gv = validateIgvm(gen.bytes);
  process.stdout.write(
    `Built ${path} (${bytes.length} bytes) with the IgvmBuilder API.\n` +
      `igvm validate: ${v.valid ? 'valid' : 'INVALID'} (${v.errors} errors, ${v.warnings} warnings)\n` +
      v.problems.map((p) => `  ${p.severity}[${p.code}]: ${p.message}\n`).join('') +
      `\nigvm inspect ${path}:\n\n` +
      renderInspect(inspectIgvm(parseIgvm(bytes)), path) +
      `\nBuilt ${genPath} (${gen.bytes.length} bytes) with igvmgen's generator from a synthetic 1 MiB bzImage (x64, built-in ACPI).\n` +
      `igvm validate: ${gv.valid ? 'valid' : 'INVALID'} (${gv.errors} errors, ${gv.warnings} warnings)\n` +
      `SEV-SNP launch digest: ${gen.launchDigest}\n` +
      `\nNext: node dist/src/cli/igvm.js inspect ${genPath}, or node dist/src/cli/igvmgen.js -d ${genPath}\n`,
  );
}
