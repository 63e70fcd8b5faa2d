// Add or replace the SEV-SNP ID block of a built IGVM file, keeping every other byte, signed online or with an imported (HSM) signature (MEASUREMENT.md §7).
import { parseIgvm } from '../format/index.js';
import { serializeIgvm } from '../format/serialize.js';
import { sha384 } from '../crypto/hash.js';
import type { EcPrivateKey, EcPublicKey } from '../crypto/ec-key.js';
import { IgvmError } from '../errors.js';
import type { GuestPolicy, IgvmFile, InitializationHeader, SnpIdBlock } from '../model.js';
import { PLATFORM_TYPE } from '../spec/constants.js';
import { firstPlatformOfType } from '../measure/platform.js';
import { measureSnp } from '../measure/snp/index.js';
import type { SnpMeasurement, SnpVmm } from '../measure/snp/types.js';
import { ID_BLOCK_MESSAGE_BYTES, idBlockHeader, idBlockMessage, signIdBlock, type IdSignature, type SnpIdBlockFields } from './id-block.js';
import { snpPublicKeyStructure, verifyIdBlocks, type IdBlockVerification } from './verify.js';
import {
  igvmPublicKeyField, parseEcdsaSignature, requireP384PublicKey, signatureField, signP384Message, verifyAuthorSignature, verifyP384Message,
  type P384Signature,
} from './id-signature.js';
import { SNP_ALGORITHM_ECDSA_P384_SHA384 } from '../spec/snp-id-block.js';

export * from './id-signature.js';

/** What goes into the ID block besides ld (and where ld comes from). */
export interface IdBlockRequest {
  /** Launch-digest model ld is computed with (default 'igvm', the crate rule) and its vCPU count (default 1). */
  vmm?: SnpVmm;
  vcpus?: number;
  /** 16 bytes each; default zero. */
  familyId?: Uint8Array;
  imageId?: Uint8Array;
  /** Default 1 (the firmware requires 1 and QEMU forces 1; another value gives a warning). */
  version?: number;
  /** Default 0. */
  guestSvn?: number;
  /** Set the SNP GUEST_POLICY to this value (replacing the value of the one for the platform, or adding one). */
  policy?: bigint;
  /**
   * An exported 96-byte ID block (idBlockToSign output): its fields are used. Its ld must equal the file's digest for
   * the model and its policy the GUEST_POLICY (after `policy`); fields also given above must agree with it.
   */
  idBlock?: Uint8Array;
}

/** The ID block for a file, before signing. */
export interface PreparedIdBlock {
  /** The model with the policy change applied (directives unchanged), serializable in preserve mode. */
  file: IgvmFile;
  /** Mask of the (first) SEV_SNP platform, the one every digest model measures. */
  platformMask: number;
  /** Mask the ID block carries: the replaced block's, else the platform's. */
  blockMask: number;
  /** Index in `file.directives` of the SNP_ID_BLOCK that will be replaced; undefined → a new one is appended as the last directive. */
  replaces: number | undefined;
  /** What happened to the GUEST_POLICY: taken from the file, its value replaced, a new header added, or `policy` equal to the file's. */
  policyChange: 'none' | 'replaced' | 'added' | 'unchanged';
  measurement: SnpMeasurement;
  fields: SnpIdBlockFields;
  /** The 96 bytes the ID key signs (ECDSA P-384 with SHA-384). */
  message: Uint8Array;
  warnings: string[];
}

/** An ID or author signature: made here with a private key, or made elsewhere and imported (DER or raw r ‖ s bytes). */
export type SignatureSource =
  | { key: EcPrivateKey; deterministic?: boolean }
  | { signature: Uint8Array | P384Signature; publicKey: EcPublicKey; signatureFile?: string; publicKeyFile?: string };

export interface SignIgvmOptions extends IdBlockRequest {
  id: SignatureSource;
  /** With an author key the block gets author_key_enabled 1, AuthorKeyAlgorithm 1 and the signature over the 1028-byte ID key structure. */
  author?: SignatureSource;
}

export interface SignIgvmResult extends PreparedIdBlock {
  /** The signed file. */
  bytes: Uint8Array;
  header: SnpIdBlock;
  /** Index of the SNP_ID_BLOCK among the output's directives. */
  directive: number;
  /** SHA-384 of the 1028-byte ID / author key structures (ID_KEY_DIGEST / AUTHOR_KEY_DIGEST in the attestation report). */
  idKeyDigest: Uint8Array;
  authorKeyDigest: Uint8Array | undefined;
  /** verifyIdBlocks of the re-parsed output for the written block. */
  verification: IdBlockVerification;
}

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The fields of a 96-byte ID block (ld ‖ family_id ‖ image_id ‖ version ‖ guest_svn ‖ policy, little-endian). */
export function parseIdBlockMessage(bytes: Uint8Array, file?: string): SnpIdBlockFields {
  if (bytes.length !== ID_BLOCK_MESSAGE_BYTES) {
    throw new IgvmError('sign-bad-id-block-file', `expected a ${ID_BLOCK_MESSAGE_BYTES}-byte SEV-SNP ID block, found ${bytes.length} bytes`, file !== undefined ? { file } : {});
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    ld: bytes.slice(0, 48), familyId: bytes.slice(48, 64), imageId: bytes.slice(64, 80),
    version: v.getUint32(80, true), guestSvn: v.getUint32(84, true), policy: v.getBigUint64(88, true),
  };
}

function toFile(input: Uint8Array | IgvmFile): IgvmFile {
  return input instanceof Uint8Array ? parseIgvm(input) : input;
}

/** Apply `policy` to the GUEST_POLICY headers for `blockMask` (or add one for the platform); return the policy signed. */
function applyPolicy(file: IgvmFile, platformMask: number, blockMask: number, policy: bigint | undefined, warnings: string[]): {
  initializations: InitializationHeader[]; policy: bigint; change: PreparedIdBlock['policyChange'];
} {
  const matching = file.initializations.flatMap((h, i) => (h.type === 'GUEST_POLICY' && (h.compatibility_mask & blockMask) !== 0 ? [{ h, i }] : []));
  if (policy === undefined) {
    const first = matching[0];
    if (first === undefined) {
      throw new IgvmError('sign-no-policy', `the file has no GUEST_POLICY for the SEV-SNP mask ${hex(blockMask)}, so the policy the ID block signs is unknown; pass --policy HEX (library: policy) to add one`);
    }
    const values = new Set(matching.map((m) => m.h.policy));
    if (values.size > 1) {
      throw new IgvmError('sign-ambiguous-policy', `${matching.length} GUEST_POLICY headers with different values (${[...values].map(hex).join(', ')}) apply to mask ${hex(blockMask)}; pass --policy HEX to set them all`);
    }
    return { initializations: file.initializations, policy: first.h.policy, change: 'none' };
  }
  if (policy < 0n || policy > 0xffffffffffffffffn) throw new IgvmError('sign-bad-field', `policy ${String(policy)} is not a 64-bit unsigned value`, { path: 'policy' });
  const inits = file.initializations.slice();
  if (matching.length === 0) {
    const added: GuestPolicy = { type: 'GUEST_POLICY', policy, compatibility_mask: platformMask, reserved: 0 };
    inits.push(added);
    return { initializations: inits, policy, change: 'added' };
  }
  let changed = false;
  for (const { h, i } of matching) {
    if (h.type !== 'GUEST_POLICY' || h.policy === policy) continue;
    if ((h.compatibility_mask & ~platformMask) !== 0) {
      warnings.push(`the GUEST_POLICY changed (mask ${hex(h.compatibility_mask)}) also applies to platforms other than SEV-SNP mask ${hex(platformMask)}`);
    }
    inits[i] = { ...h, policy };
    changed = true;
  }
  return { initializations: changed ? inits : file.initializations, policy, change: changed ? 'replaced' : 'unchanged' };
}

function agree(name: string, given: Uint8Array | number | undefined, fromBlock: Uint8Array | number): void {
  if (given === undefined) return;
  const same = typeof given === 'number' ? given === fromBlock : equal(given, fromBlock as Uint8Array);
  if (!same) {
    const show = (x: Uint8Array | number): string => (typeof x === 'number' ? String(x) : toHex(x));
    throw new IgvmError('sign-id-block-conflict', `${name} ${show(given)} differs from the imported ID block's ${show(fromBlock)}; omit the option or give the block's value`, { path: name });
  }
}

/**
 * Work out the ID block for a file: the first SEV_SNP platform (the one the digest models measure), the SNP_ID_BLOCK
 * it replaces (the one whose mask intersects the platform's; more than one is an error, as QEMU rejects such files),
 * the policy (GUEST_POLICY for the block's mask, or `policy`), ld (measureSnp for the model) and the 96-byte message.
 */
export function prepareIdBlock(input: Uint8Array | IgvmFile, req: IdBlockRequest = {}): PreparedIdBlock {
  const file = toFile(input);
  const vmm = req.vmm ?? 'igvm';
  const platform = firstPlatformOfType(file, PLATFORM_TYPE.SEV_SNP, 'sign-no-snp', 'it has no SEV-SNP launch digest and cannot carry an SNP ID block');
  const platformMask = platform.compatibility_mask;
  const existing = file.directives.flatMap((d, i) => (d.type === 'SNP_ID_BLOCK' && (d.compatibility_mask & platformMask) !== 0 ? [i] : []));
  if (existing.length > 1) {
    throw new IgvmError('sign-multiple-id-blocks', `the file has ${existing.length} SNP_ID_BLOCKs for the SEV-SNP mask ${hex(platformMask)} (directives ${existing.map((i) => `#${i}`).join(', ')}); QEMU rejects such a file and there is no single block to replace`);
  }
  const replaces = existing[0];
  const old = replaces === undefined ? undefined : file.directives[replaces];
  const blockMask = old?.type === 'SNP_ID_BLOCK' ? old.compatibility_mask : platformMask;
  const warnings: string[] = [];
  const imported = req.idBlock === undefined ? undefined : parseIdBlockMessage(req.idBlock);
  let policyRequest = req.policy;
  const applied = applyPolicy(file, platformMask, blockMask, policyRequest, warnings);
  if (imported && imported.policy !== applied.policy) {
    throw new IgvmError('sign-id-block-mismatch', `the imported ID block signs policy ${hex(imported.policy)} but the file's GUEST_POLICY for mask ${hex(blockMask)} is ${hex(applied.policy)}; pass --policy ${hex(imported.policy)} if the block is meant to change it`);
  }
  policyRequest = applied.policy;
  const modified: IgvmFile = applied.initializations === file.initializations ? file : { ...file, initializations: applied.initializations };
  const measurement = measureSnp(modified, vmm, req.vcpus !== undefined ? { vcpus: req.vcpus } : {});
  let fields: SnpIdBlockFields;
  if (imported) {
    if (!equal(imported.ld, measurement.digest)) {
      throw new IgvmError('sign-id-block-mismatch', `the imported ID block's ld ${toHex(imported.ld)} is not the file's ${vmm} launch digest ${toHex(measurement.digest)}${req.vcpus !== undefined ? ` for ${req.vcpus} vCPUs` : ''}; use the --vmm and --vcpus the block was exported with, and the same file`);
    }
    agree('familyId', req.familyId, imported.familyId);
    agree('imageId', req.imageId, imported.imageId);
    agree('version', req.version, imported.version);
    agree('guestSvn', req.guestSvn, imported.guestSvn);
    fields = imported;
  } else {
    fields = {
      ld: measurement.digest,
      familyId: req.familyId ?? new Uint8Array(16),
      imageId: req.imageId ?? new Uint8Array(16),
      version: req.version ?? 1,
      guestSvn: req.guestSvn ?? 0,
      policy: policyRequest,
    };
  }
  const message = idBlockMessage(fields); // validates sizes and ranges ('id-block-bad-field')
  if (fields.version !== 1) warnings.push(`version is ${fields.version}: the firmware requires 1 and QEMU forces 1, so under QEMU this signature will not verify`);
  return { file: modified, platformMask, blockMask, replaces, policyChange: applied.change, measurement, fields, message, warnings };
}

/** The 96-byte ID block an HSM must sign (ECDSA P-384 with SHA-384) for `input` — prepareIdBlock(...).message. */
export function idBlockToSign(input: Uint8Array | IgvmFile, req: IdBlockRequest = {}): Uint8Array {
  return prepareIdBlock(input, req).message;
}

/** A signature from its source over `message`; an imported one must verify, else IgvmError `code`. */
function obtainSignature(src: SignatureSource, message: Uint8Array, code: string, what: string, hint: string): { sig: P384Signature; pub: EcPublicKey } {
  if ('key' in src) {
    const s = signP384Message(message, src.key, src.deterministic === true);
    return { sig: { r: s.r, s: s.s }, pub: s.publicKey };
  }
  requireP384PublicKey(src.publicKey, src.publicKeyFile);
  const sig = src.signature instanceof Uint8Array ? parseEcdsaSignature(src.signature, src.signatureFile) : src.signature;
  if (!verifyP384Message(message, sig, src.publicKey)) {
    const names = [src.signatureFile, src.publicKeyFile].filter((x) => x !== undefined).join(' with ');
    throw new IgvmError(code, `the ${what} signature${names ? ` (${names})` : ''} does not verify ${hint}`, src.signatureFile !== undefined ? { file: src.signatureFile } : {});
  }
  return { sig, pub: src.publicKey };
}

function describeFields(f: SnpIdBlockFields, vmm: SnpVmm): string {
  return `(ld ${toHex(f.ld)} for model ${vmm}, family_id ${toHex(f.familyId)}, image_id ${toHex(f.imageId)}, version ${f.version}, guest_svn ${f.guestSvn}, policy ${hex(f.policy)})`;
}

/**
 * Sign `input` (IGVM bytes, or a model parsed from them): the SNP_ID_BLOCK for the first SEV_SNP platform is replaced
 * in place, or appended as the last directive; with `policy` the GUEST_POLICY value is replaced (or a header appended
 * to the initialization section). The file is written in preserve mode, so only the fixed header's size/checksum
 * fields, the changed records and the bytes shifted by an inserted record (with the file offsets pointing at them)
 * differ. The output is re-parsed and every ID block's signature checked before it is returned.
 */
export function signIgvm(input: Uint8Array | IgvmFile, opts: SignIgvmOptions): SignIgvmResult {
  const prep = prepareIdBlock(input, opts);
  const vmm = prep.measurement.vmm;
  const { fields, message } = prep;
  const hint = `over this file's ID block ${describeFields(fields, vmm)}: the field options (--family-id, --image-id, --version, --svn, --policy, --vmm, --vcpus) must be the ones used with --export-id-block, and the public key the one of the key that signed`;
  let idSig: IdSignature;
  if ('key' in opts.id) {
    idSig = signIdBlock(fields, opts.id.key, { deterministic: opts.id.deterministic === true });
  } else {
    const { sig, pub } = obtainSignature(opts.id, message, 'sign-signature-invalid', 'ID', hint);
    const s = signatureField(sig);
    const k = igvmPublicKeyField(pub);
    idSig = { r: s.slice(0, 72), s: s.slice(72), qx: k.slice(8, 80), qy: k.slice(80) };
  }
  let header = idBlockHeader(fields, idSig, prep.blockMask);
  if (opts.author) {
    const idKey = snpPublicKeyStructure(header.id_public_key);
    const { sig, pub } = obtainSignature(opts.author, idKey, 'sign-author-signature-invalid', 'author',
      'over the 1028-byte ID key structure of this ID key (export it with --export-id-key); the author public key must be the one of the key that signed, and the ID key the one used here');
    header = {
      ...header, author_key_enabled: 1, author_key_algorithm: SNP_ALGORITHM_ECDSA_P384_SHA384,
      author_key_signature: signatureField(sig), author_public_key: igvmPublicKeyField(pub),
    };
  }
  const directives = prep.file.directives.slice();
  let directive: number;
  if (prep.replaces !== undefined) {
    directives[prep.replaces] = header;
    directive = prep.replaces;
  } else {
    directive = directives.push(header) - 1;
  }
  const bytes = serializeIgvm({ ...prep.file, directives }, { mode: 'preserve' });
  const verification = checkOutput(bytes, directive, opts);
  return {
    ...prep, bytes, header, directive,
    idKeyDigest: verification.idKeyDigest,
    authorKeyDigest: opts.author ? sha384(snpPublicKeyStructure(header.author_public_key)) : undefined,
    verification,
  };
}

/** Re-parse the output and check every ID block: ours must verify (signature, ld, author signature), the others' signatures too. */
function checkOutput(bytes: Uint8Array, directive: number, opts: SignIgvmOptions): IdBlockVerification {
  const failed = (message: string): never => {
    throw new IgvmError('sign-output-invalid', `internal check of the signed file failed, nothing written: ${message}`);
  };
  let parsed: IgvmFile;
  try {
    parsed = parseIgvm(bytes);
  } catch (e) {
    if (!(e instanceof IgvmError)) throw e;
    return failed(`the output does not parse: ${e.message}`);
  }
  const results = verifyIdBlocks(parsed, { ...(opts.vmm !== undefined ? { vmm: opts.vmm } : {}), ...(opts.vcpus !== undefined ? { vcpus: opts.vcpus } : {}) });
  const ours = results.find((r) => r.directive === directive);
  if (!ours) return failed(`directive #${directive} is not an SNP_ID_BLOCK`);
  if (!ours.signatureValid || !ours.ldMatches) return failed(ours.problems.join('; '));
  const h = parsed.directives[directive] as SnpIdBlock;
  if (h.author_key_enabled !== 0 && !verifyAuthorSignature(h)) return failed('the author signature does not verify');
  for (const r of results) {
    if (r.directive === directive) continue;
    const other = parsed.directives[r.directive] as SnpIdBlock;
    if (!r.signatureValid || (other.author_key_enabled !== 0 && !verifyAuthorSignature(other))) {
      throw new IgvmError('sign-other-id-block-invalid', `the file's other SNP_ID_BLOCK #${r.directive} (mask ${hex(r.mask)}) does not verify${r.signatureValid ? ' (author signature)' : ' (its policy may have changed)'}; nothing written`);
    }
  }
  return ours;
}
