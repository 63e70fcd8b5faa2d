// TEI config JSON (IGVMGEN.md §9.4): the sample file, defaults, hex ids, policy bits and rejected fields.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgvmError } from '../../src/errors.js';
import { parseTeiConfig } from '../../src/snp/tei-config.js';
import { VECTORS } from '../helpers.js';

const hexBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const wrap = (data: unknown) => JSON.stringify({ tei_config_name: 't', tei_config_version: 1, tei_config_data: data });

test('the sample config.json: version 3, guest_svn 7, ids in written byte order, policy with debug + SMT + ABI 0.31', () => {
  const cfg = parseTeiConfig(readFileSync(join(VECTORS, 'inputs', 'config.json'), 'utf8'), 'config.json');
  assert.equal(cfg.version, 3);
  assert.equal(cfg.guestSvn, 7);
  assert.deepEqual(cfg.familyId, hexBytes('12161A1B12161A1B12161A1B12161A1B'));
  assert.deepEqual(cfg.imageId, hexBytes('1A1B12161A1B12161A1B12161A1B1216'));
  const expected = 0x20000n | (1n << 19n) | (1n << 16n) | 31n;
  assert.equal(expected, 0xb001fn);
  assert.equal(cfg.policy, expected);
});

test('defaults: version 1, guest_svn 2, family 01 00…, image 02 00…, policy 0x3001F', () => {
  for (const text of [wrap({}), JSON.stringify({ tei_config_data: {} })]) {
    const cfg = parseTeiConfig(text);
    assert.equal(cfg.version, 1);
    assert.equal(cfg.guestSvn, 2);
    assert.deepEqual(cfg.familyId, hexBytes('01000000000000000000000000000000'));
    assert.deepEqual(cfg.imageId, hexBytes('02000000000000000000000000000000'));
    assert.equal(cfg.policy, 0x3001fn);
  }
});

test('hex ids are big-endian 128-bit numbers: short strings are left-padded, 0x prefixes and leading zeros accepted', () => {
  assert.deepEqual(parseTeiConfig(wrap({ family_id: '1' })).familyId, hexBytes('00000000000000000000000000000001'));
  assert.deepEqual(parseTeiConfig(wrap({ image_id: '0xABCD' })).imageId, hexBytes('0000000000000000000000000000abcd'));
  assert.deepEqual(parseTeiConfig(wrap({ image_id: '00' + 'ff'.repeat(16) })).imageId, hexBytes('ff'.repeat(16)));
});

test('policy: booleans or 0/1 for the flags, ABI numbers into bits 8–15 / 0–7, OR-ed into 0x20000', () => {
  assert.equal(parseTeiConfig(wrap({ policy: {} })).policy, 0x20000n);
  assert.equal(parseTeiConfig(wrap({ policy: { migrate_ma: 1, abi_major: 2, abi_minor: 255 } })).policy, 0x20000n | (1n << 18n) | 0x2ffn);
  assert.equal(parseTeiConfig(wrap({ policy: { debug_allowed: false, smt_allowed: 0 } })).policy, 0x20000n);
});

test('bad input: invalid JSON and every ill-typed or unknown field name their JSON path', () => {
  const bad = (text: string, code: string, path: string | undefined, message: RegExp) => {
    assert.throws(() => parseTeiConfig(text, 'config.json'), (e: unknown) => {
      assert.ok(e instanceof IgvmError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.path, path);
      assert.equal(e.file, 'config.json');
      assert.match(e.message, message);
      return true;
    });
  };
  bad('{"tei_config_data": {', 'tei-bad-json', undefined, /expected a JSON document/);
  bad('[]', 'tei-bad-field', '(top level)', /expected a JSON object/);
  bad('{}', 'tei-bad-field', 'tei_config_data', /missing/);
  bad(JSON.stringify({ tei_config_data: 5 }), 'tei-bad-field', 'tei_config_data', /expected an object, got 5/);
  bad(JSON.stringify({ tei_config_data: {}, extra: 1 }), 'tei-bad-field', 'extra', /unknown key/);
  bad(JSON.stringify({ tei_config_name: 3, tei_config_data: {} }), 'tei-bad-field', 'tei_config_name', /expected a string/);
  bad(JSON.stringify({ tei_config_version: '1', tei_config_data: {} }), 'tei-bad-field', 'tei_config_version', /expected an integer/);
  bad(wrap({ guest_svn: '7' }), 'tei-bad-field', 'tei_config_data.guest_svn', /^expected an integer 0\.\.4294967295, got "7"$/);
  bad(wrap({ guest_svn: 1.5 }), 'tei-bad-field', 'tei_config_data.guest_svn', /got 1\.5/);
  bad(wrap({ version: -1 }), 'tei-bad-field', 'tei_config_data.version', /0\.\.4294967295, got -1/);
  bad(wrap({ version: 4294967296 }), 'tei-bad-field', 'tei_config_data.version', /got 4294967296/);
  bad(wrap({ version: true }), 'tei-bad-field', 'tei_config_data.version', /got true/);
  bad(wrap({ svn: 1 }), 'tei-bad-field', 'tei_config_data.svn', /unknown key; expected version, guest_svn/);
  bad(wrap({ family_id: 12 }), 'tei-bad-field', 'tei_config_data.family_id', /expected a hex string/);
  bad(wrap({ family_id: 'xyz' }), 'tei-bad-field', 'tei_config_data.family_id', /expected a hex string/);
  bad(wrap({ family_id: '' }), 'tei-bad-field', 'tei_config_data.family_id', /expected a hex string/);
  bad(wrap({ image_id: '1' + '0'.repeat(32) }), 'tei-bad-field', 'tei_config_data.image_id', /does not fit in 16 bytes/);
  bad(wrap({ policy: true }), 'tei-bad-field', 'tei_config_data.policy', /expected an object/);
  bad(wrap({ policy: { debug_allowed: 'yes' } }), 'tei-bad-field', 'tei_config_data.policy.debug_allowed', /expected true, false, 0 or 1, got "yes"/);
  bad(wrap({ policy: { smt_allowed: 2 } }), 'tei-bad-field', 'tei_config_data.policy.smt_allowed', /got 2/);
  bad(wrap({ policy: { abi_minor: 256 } }), 'tei-bad-field', 'tei_config_data.policy.abi_minor', /0\.\.255, got 256/);
  bad(wrap({ policy: { vmpl: 1 } }), 'tei-bad-field', 'tei_config_data.policy.vmpl', /unknown key/);
  // describe() gives the one-line form "config.json: path: message [code]".
  try {
    parseTeiConfig(wrap({ guest_svn: '7' }), 'config.json');
    assert.fail('expected an error');
  } catch (e) {
    assert.equal((e as IgvmError).describe(), 'config.json: tei_config_data.guest_svn: expected an integer 0..4294967295, got "7" [tei-bad-field]');
  }
});
