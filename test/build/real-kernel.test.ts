// buildIgvm on Debian 12's linux-image-6.1.0-*-amd64 bzImage (apt-get download, cached in the temp dir): validates, loads per platform in the QEMU 10.2 model.
import test from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { debianKernel as cachedDebianKernel } from '../run/linux-fixtures.js';
import { installNodeHash } from '../../src/io/node-hash.js';
import { buildIgvm, LAYOUT, BP } from '../../src/build/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { loadIgvm } from '../../src/load/index.js';
import { parseIgvm } from '../../src/format/index.js';
import { measureSnp } from '../../src/measure/snp/index.js';
import { madtCpus, u32, u64, u8 } from './helpers.js';

installNodeHash();

/** Debian's kernel (cached download shared with the boot test). */
function debianKernel(): { name: string; bytes: Uint8Array } {
  const k = cachedDebianKernel();
  return { name: basename(k.path), bytes: k.bytes };
}

test('Debian 6.1 bzImage: native + SEV-ES + SEV-SNP file validates and loads in each platform; kernel and boot_params as specified', () => {
  const kernel = debianKernel();
  const k = kernel.bytes;
  const dv = new DataView(k.buffer, k.byteOffset);
  assert.ok(dv.getUint16(0x206, true) >= 0x020f);
  const pref = Number(dv.getBigUint64(0x258, true));
  const platforms = ['native', 'sev-es', 'sev-snp'] as const;
  const r = buildIgvm({ kernel, cmdline: 'console=ttyS0 panic=-1', platforms, memory: 512n << 20n, vcpus: 2, target: 'qemu' });
  const v = validateIgvm(r.bytes);
  assert.equal(v.errors + v.warnings, 0, JSON.stringify(v.problems.slice(0, 3)));
  const image = k.subarray(((k[0x1f1] || 4) + 1) * 512);
  const headerEnd = 0x202 + k[0x201]!;
  for (const p of platforms) {
    const l = loadIgvm(r.bytes, { platform: p, accel: p === 'native' ? 'tcg' : 'kvm', memory: 512n << 20n, vcpus: 2 });
    assert.ok(l.ok, l.ok ? '' : l.failure.message);
    const mem = l.plan.memory;
    assert.ok(Buffer.from(mem.read(BigInt(pref), BigInt(image.length))).equals(Buffer.from(image)), `${p}: kernel at pref_address`);
    const bp = mem.read(BigInt(p === 'sev-snp' ? LAYOUT.bootParamsSnp : LAYOUT.bootParams), 4096n);
    assert.ok(Buffer.from(bp.subarray(0x230, headerEnd)).equals(Buffer.from(k.subarray(0x230, headerEnd))), 'setup header from kernel_alignment to its end');
    assert.equal(u32(bp, BP.code32Start), pref);
    assert.ok(u8(bp, BP.e820Entries) >= 2);
    assert.equal(madtCpus((g, s) => mem.read(g, s), u64(bp, BP.acpiRsdpAddr)), 2);
    assert.equal(l.plan.vps[0]!.registers.rip, BigInt(pref));
  }
  assert.equal(r.digests[0]!.digest, Buffer.from(measureSnp(parseIgvm(r.bytes), 'qemu', { vcpus: 2 }).digest).toString('hex'));
});
