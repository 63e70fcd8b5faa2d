// `igvm sign` implementation, loaded when the command runs: options → prepareIdBlock / signIgvm → atomic write (MEASUREMENT.md §7).
import { UsageError, booleanOption, numberOption, stringOption, type CommandContext } from '../framework.js';
import { readInput, writeAtomic } from '../../io/files.js';
import { parseIgvm } from '../../format/index.js';
import { namingFile } from '../../errors.js';
import { parseEcPrivateKey, parseEcPublicKey, type EcPublicKey } from '../../crypto/ec-key.js';
import { sha384 } from '../../crypto/hash.js';
import { SNP_MODEL_DESCRIPTIONS } from '../../measure/snp/index.js';
import type { SnpVmm } from '../../measure/snp/types.js';
import { idKeyStructure, parseIdBlockMessage, prepareIdBlock, signIgvm, type IdBlockRequest, type PreparedIdBlock, type SignatureSource } from '../../snp/sign.js';
import { bytesToHex } from '../json.js';

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** FAMILY_ID / IMAGE_ID: hex digits giving the bytes in file order, zero-padded on the right to 16 bytes. */
export function parseId(text: string, option: string): Uint8Array {
  if (/^0x/i.test(text)) {
    throw new UsageError(`option '--${option}' takes the bytes in file order as hex digits without 0x (e.g. 01 for 01 00 … 00), got '${text}'`);
  }
  if (!/^([0-9a-f]{2}){1,16}$/i.test(text)) {
    const why = text.length > 32 && /^[0-9a-f]*$/i.test(text) ? `${Math.ceil(text.length / 2)} bytes, more than 16` : /^[0-9a-f]+$/i.test(text) ? 'an odd number of hex digits' : 'not hex digits';
    throw new UsageError(`option '--${option}' expects 1 to 16 bytes as hex digits (2 per byte, zero-padded on the right to 16 bytes), got '${text}': ${why}`);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < text.length / 2; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function parsePolicy(text: string): bigint {
  if (!/^(0x)?[0-9a-f]{1,16}$/i.test(text)) throw new UsageError(`option '--policy' expects a hexadecimal 64-bit value like 0x30000, got '${text}'`);
  return BigInt(text.toLowerCase().startsWith('0x') ? text : `0x${text}`);
}

function u32Option(ctx: CommandContext, name: string): number | undefined {
  const v = numberOption(ctx.args, name);
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new UsageError(`option '--${name}' expects an integer 0..4294967295, got ${v}`);
  return v;
}

function readPublicKey(path: string): EcPublicKey {
  return namingFile(path, () => parseEcPublicKey(readInput(path), path));
}

function present(ctx: CommandContext, names: readonly string[]): string[] {
  return names.filter((n) => (n === 'export-id-block' || n === 'deterministic' ? booleanOption(ctx.args, n) : stringOption(ctx.args, n) !== undefined || numberOption(ctx.args, n) !== undefined));
}

function forbid(ctx: CommandContext, mode: string, names: readonly string[]): void {
  const given = present(ctx, names);
  if (given.length > 0) throw new UsageError(`option '--${given[0]}' cannot be combined with ${mode}`);
}

const SIGNING = ['id-key', 'id-signature', 'id-public-key', 'author-key', 'author-signature', 'author-public-key', 'deterministic'] as const;
const FIELDS = ['family-id', 'image-id', 'version', 'svn', 'policy', 'id-block'] as const;

function request(ctx: CommandContext): IdBlockRequest {
  const familyId = stringOption(ctx.args, 'family-id');
  const imageId = stringOption(ctx.args, 'image-id');
  const version = u32Option(ctx, 'version');
  const svn = u32Option(ctx, 'svn');
  const policy = stringOption(ctx.args, 'policy');
  const vcpus = numberOption(ctx.args, 'vcpus') ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 4096) throw new UsageError(`option '--vcpus' expects an integer 1..4096, got ${vcpus}`);
  const blockPath = stringOption(ctx.args, 'id-block');
  const block = blockPath !== undefined ? readInput(blockPath) : undefined;
  if (block !== undefined) parseIdBlockMessage(block, blockPath); // the size check names the block file
  return {
    vmm: (stringOption(ctx.args, 'vmm') ?? 'igvm') as SnpVmm,
    vcpus,
    ...(familyId !== undefined ? { familyId: parseId(familyId, 'family-id') } : {}),
    ...(imageId !== undefined ? { imageId: parseId(imageId, 'image-id') } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(svn !== undefined ? { guestSvn: svn } : {}),
    ...(policy !== undefined ? { policy: parsePolicy(policy) } : {}),
    ...(block !== undefined ? { idBlock: block } : {}),
  };
}

function describe(path: string, p: PreparedIdBlock, vcpus: number): string[] {
  const f = p.fields;
  const vm = p.measurement.vmm;
  const kvm = vm === 'qemu' || vm === 'clh-kvm';
  const policyFrom = { none: 'from the GUEST_POLICY', replaced: 'set by --policy, GUEST_POLICY replaced', added: 'set by --policy, GUEST_POLICY added', unchanged: '--policy, already the GUEST_POLICY value' }[p.policyChange];
  return [
    `  file:      ${path}, SEV-SNP platform mask ${hex(p.platformMask)}`,
    `  model:     ${vm}: ${SNP_MODEL_DESCRIPTIONS[vm]}${kvm ? `, ${vcpus} vCPU${vcpus === 1 ? '' : 's'}` : ''}`,
    `  ld:        ${bytesToHex(f.ld)}`,
    `  family_id: ${bytesToHex(f.familyId)}`,
    `  image_id:  ${bytesToHex(f.imageId)}`,
    `  version:   ${f.version}`,
    `  guest_svn: ${f.guestSvn}`,
    `  policy:    ${hex(f.policy)} (${policyFrom})`,
  ];
}

function warn(ctx: CommandContext, warnings: readonly string[]): void {
  for (const w of warnings) ctx.err(`${ctx.program}: warning: ${w}\n`);
}

function signatureSource(ctx: CommandContext, role: 'id' | 'author'): SignatureSource | undefined {
  const keyPath = stringOption(ctx.args, `${role}-key`);
  const sigPath = stringOption(ctx.args, `${role}-signature`);
  const pubPath = stringOption(ctx.args, `${role}-public-key`);
  if (keyPath !== undefined && (sigPath !== undefined || pubPath !== undefined)) {
    throw new UsageError(`option '--${role}-key' cannot be combined with '--${sigPath !== undefined ? `${role}-signature` : `${role}-public-key`}': sign with the key, or import a signature made elsewhere`);
  }
  if (keyPath !== undefined) {
    const key = namingFile(keyPath, () => parseEcPrivateKey(readInput(keyPath), keyPath));
    return { key, deterministic: booleanOption(ctx.args, 'deterministic') };
  }
  if (sigPath === undefined && pubPath === undefined) return undefined;
  if (sigPath === undefined) throw new UsageError(`option '--${role}-public-key' needs '--${role}-signature'`);
  if (pubPath === undefined) throw new UsageError(`option '--${role}-signature' needs '--${role}-public-key' (the P-384 public key of the key that signed)`);
  const publicKey = readPublicKey(pubPath);
  return { signature: readInput(sigPath), publicKey, signatureFile: sigPath, publicKeyFile: pubPath };
}

export function runSign(ctx: CommandContext): number {
  const output = stringOption(ctx.args, 'output');
  if (output === undefined || output === '') throw new UsageError("option '--output' (-o) is required");
  const path = ctx.args.positionals[0];
  const vcpus = numberOption(ctx.args, 'vcpus') ?? 1;

  const idKeyPub = stringOption(ctx.args, 'export-id-key');
  if (idKeyPub !== undefined) {
    if (path !== undefined) throw new UsageError("option '--export-id-key' takes no FILE: it writes the ID key structure of the public key it names");
    forbid(ctx, "'--export-id-key'", ['export-id-block', ...SIGNING, ...FIELDS]);
    const structure = namingFile(idKeyPub, () => idKeyStructure(readPublicKey(idKeyPub), idKeyPub));
    writeAtomic(output, structure);
    ctx.out(`wrote ${output}: the 1028-byte SEV-SNP ID key structure of ${idKeyPub} (curve 2 = P-384, Qx, Qy little-endian) for the author key to sign (ECDSA P-384 with SHA-384)\n`);
    ctx.out(`  id key digest: ${bytesToHex(sha384(structure))} (ID_KEY_DIGEST in the attestation report)\n`);
    return 0;
  }
  if (path === undefined) throw new UsageError('missing argument FILE');
  const req = request(ctx);
  const bytes = readInput(path);

  if (booleanOption(ctx.args, 'export-id-block')) {
    forbid(ctx, "'--export-id-block'", [...SIGNING, 'id-block']);
    const prep = namingFile(path, () => prepareIdBlock(parseIgvm(bytes), req));
    warn(ctx, prep.warnings);
    writeAtomic(output, prep.message);
    ctx.out(`wrote ${output}: the 96-byte SEV-SNP ID block to sign with ECDSA P-384 and SHA-384 (DER or raw r‖s signature)\n`);
    ctx.out(describe(path, prep, vcpus).join('\n') + '\n');
    ctx.out(`  then: igvm sign ${path} --id-signature SIG --id-public-key PUB.pem -o OUT with the same field options${prep.policyChange === 'added' || prep.policyChange === 'replaced' ? ' (including --policy)' : ''}\n`);
    return 0;
  }

  const id = signatureSource(ctx, 'id');
  if (id === undefined) throw new UsageError("give '--id-key' (sign here), '--id-signature' with '--id-public-key' (import a signature) or '--export-id-block' (export the block to sign)");
  const author = signatureSource(ctx, 'author');
  if (booleanOption(ctx.args, 'deterministic') && !('key' in id) && !(author && 'key' in author)) {
    throw new UsageError("option '--deterministic' needs '--id-key' or '--author-key': imported signatures are used as they are");
  }
  const file = namingFile(path, () => parseIgvm(bytes));
  const r = namingFile(path, () => signIgvm(file, { ...req, id, ...(author ? { author } : {}) }));
  warn(ctx, r.warnings);
  writeAtomic(output, r.bytes);
  const where = r.replaces !== undefined ? `replaced SNP_ID_BLOCK #${r.directive}` : `added SNP_ID_BLOCK #${r.directive} (last directive)`;
  ctx.out(`wrote ${output}: ${r.bytes.length} bytes, ${where}, mask ${hex(r.blockMask)}; signature verified\n`);
  ctx.out(describe(path, r, vcpus).join('\n') + '\n');
  ctx.out(`  id key digest:     ${bytesToHex(r.idKeyDigest)}\n`);
  if (r.authorKeyDigest) ctx.out(`  author key digest: ${bytesToHex(r.authorKeyDigest)}\n`);
  return 0;
}
