// The igvmgen TEI config JSON (IGVMGEN.md §9.4): ID-block version, guest SVN, family/image ids and guest policy.
import { IgvmError } from '../errors.js';

export interface TeiConfig {
  version: number;
  guestSvn: number;
  familyId: Uint8Array;
  imageId: Uint8Array;
  policy: bigint;
}

/** Policy without a "policy" object: ABI 0.31, SMT allowed, bit 17 (IGVMGEN.md §8.2). */
export const TEI_DEFAULT_POLICY = 0x3001fn;
/** Base value the "policy" object's bits are OR-ed into (bit 17, reserved-must-be-one). */
export const TEI_POLICY_BASE = 0x20000n;

const POLICY_BITS: Record<string, { shift: bigint; max: number; bool: boolean }> = {
  debug_allowed: { shift: 19n, max: 1, bool: true },
  migrate_ma: { shift: 18n, max: 1, bool: true },
  smt_allowed: { shift: 16n, max: 1, bool: true },
  abi_major: { shift: 8n, max: 255, bool: false },
  abi_minor: { shift: 0n, max: 255, bool: false },
};

const TOP_KEYS = ['tei_config_name', 'tei_config_version', 'tei_config_data'];
const DATA_KEYS = ['version', 'guest_svn', 'family_id', 'image_id', 'policy'];

/** The default ids: the first byte set (igvmgen's ctypes `(c_uint8 * 16)(1)` / `(2)`), the rest zero. */
function defaultId(first: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = first;
  return b;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function show(v: Json | undefined): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse a TEI config file. Every field of tei_config_data is optional (defaults: version 1, guest_svn 2,
 * family_id 01 00…, image_id 02 00…, policy 0x3001F). family_id / image_id are hex strings read as one big-endian
 * number stored as 16 big-endian bytes, i.e. the bytes appear in the order written, left-padded with zeros
 * ("12161A1B…" → 12 16 1A 1B …; "1" → 00 … 00 01). Unknown keys and ill-typed or out-of-range values are rejected
 * (igvmgen itself checks nothing): IgvmError 'tei-bad-json' / 'tei-bad-field' with the JSON path.
 */
export function parseTeiConfig(text: string, file?: string): TeiConfig {
  const where = file !== undefined ? { file } : {};
  const fail = (path: string, message: string): never => {
    throw new IgvmError('tei-bad-field', message, { ...where, path });
  };
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch (e) {
    throw new IgvmError('tei-bad-json', `expected a JSON document: ${(e as Error).message}`, where);
  }
  if (!isObject(root)) return fail('(top level)', `expected a JSON object, got ${show(root)}`);
  for (const k of Object.keys(root)) {
    if (!TOP_KEYS.includes(k)) fail(k, `unknown key; expected ${TOP_KEYS.join(', ')}`);
  }
  if (root['tei_config_name'] !== undefined && typeof root['tei_config_name'] !== 'string') {
    fail('tei_config_name', `expected a string, got ${show(root['tei_config_name'])}`);
  }
  if (root['tei_config_version'] !== undefined) intField(root['tei_config_version'], 'tei_config_version', 0xffffffff, fail);
  const data = root['tei_config_data'];
  if (data === undefined) fail('tei_config_data', 'missing; expected an object (its fields are optional)');
  if (!isObject(data)) return fail('tei_config_data', `expected an object, got ${show(data)}`);
  const D = 'tei_config_data';
  for (const k of Object.keys(data)) {
    if (!DATA_KEYS.includes(k)) fail(`${D}.${k}`, `unknown key; expected ${DATA_KEYS.join(', ')}`);
  }
  const cfg: TeiConfig = {
    version: data['version'] === undefined ? 1 : intField(data['version'], `${D}.version`, 0xffffffff, fail),
    guestSvn: data['guest_svn'] === undefined ? 2 : intField(data['guest_svn'], `${D}.guest_svn`, 0xffffffff, fail),
    familyId: data['family_id'] === undefined ? defaultId(1) : hexId(data['family_id'], `${D}.family_id`, fail),
    imageId: data['image_id'] === undefined ? defaultId(2) : hexId(data['image_id'], `${D}.image_id`, fail),
    policy: TEI_DEFAULT_POLICY,
  };
  const policy = data['policy'];
  if (policy !== undefined) {
    const P = `${D}.policy`;
    if (!isObject(policy)) return fail(P, `expected an object with ${Object.keys(POLICY_BITS).join(', ')}, got ${show(policy)}`);
    let value = TEI_POLICY_BASE;
    for (const [k, v] of Object.entries(policy)) {
      const bit = POLICY_BITS[k];
      if (!bit) return fail(`${P}.${k}`, `unknown key; expected ${Object.keys(POLICY_BITS).join(', ')}`);
      let n: number;
      if (bit.bool) {
        if (typeof v === 'boolean') n = v ? 1 : 0;
        else if (v === 0 || v === 1) n = v;
        else return fail(`${P}.${k}`, `expected true, false, 0 or 1, got ${show(v)}`);
      } else {
        n = intField(v, `${P}.${k}`, bit.max, fail);
      }
      value |= BigInt(n) << bit.shift;
    }
    cfg.policy = value;
  }
  return cfg;
}

function intField(v: Json, path: string, max: number, fail: (p: string, m: string) => never): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(path, `expected an integer 0..${max}, got ${show(v)}`);
  return v as number;
}

/** A hex string (optional 0x prefix) with a value below 2^128 → 16 big-endian bytes. */
function hexId(v: Json, path: string, fail: (p: string, m: string) => never): Uint8Array {
  const expected = 'expected a hex string of at most 32 digits (a 128-bit number)';
  if (typeof v !== 'string') return fail(path, `${expected}, got ${show(v)}`);
  const digits = /^0[xX]/.test(v) ? v.slice(2) : v;
  if (!/^[0-9a-fA-F]+$/.test(digits)) return fail(path, `${expected}, got ${show(v)}`);
  const significant = digits.replace(/^0+(?=.)/, '');
  if (significant.length > 32) return fail(path, `${expected}; ${show(v)} does not fit in 16 bytes`);
  const padded = significant.padStart(32, '0');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(padded.slice(2 * i, 2 * i + 2), 16);
  return out;
}
