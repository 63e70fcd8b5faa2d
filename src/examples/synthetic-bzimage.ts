// Synthetic Linux bzImages (boot protocol 2.15 setup header + protected-mode payload) for the example, tests and benchmarks (Linux boot protocol, Documentation/arch/x86/boot.rst).

export interface BzImageSpec {
  setupSects?: number;
  prefAddress?: number;
  initSize?: number;
  xloadflags?: number;
  payload: Uint8Array;
}

/** A bzImage: (setup_sects + 1) × 512 bytes of real-mode part with the setup header, then the payload. */
export function makeBzImage(spec: BzImageSpec): Uint8Array {
  const setupSects = spec.setupSects ?? 4;
  const head = (setupSects + 1) * 512;
  const out = new Uint8Array(head + spec.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0x1f1, setupSects);
  dv.setUint16(0x1fe, 0xaa55, true);
  dv.setUint8(0x200, 0xeb); // jump over the setup header: its length is 0x202 + this byte (0x6a)
  dv.setUint8(0x201, 0x6a);
  dv.setUint32(0x202, 0x53726448, true); // "HdrS"
  dv.setUint16(0x206, 0x020f, true);
  dv.setUint8(0x211, 0x01); // loadflags: LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x230, 0x200000, true); // kernel_alignment
  dv.setUint8(0x234, 1); // relocatable_kernel
  dv.setUint16(0x236, spec.xloadflags ?? 0x7f, true);
  dv.setUint32(0x238, 2048, true); // cmdline_size (overwritten by igvmgen)
  dv.setBigUint64(0x258, BigInt(spec.prefAddress ?? 0x1000000), true);
  dv.setUint32(0x260, spec.initSize ?? 0x2000000, true);
  out.set(spec.payload, head);
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandom(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
