// igvmkit public library API (browser-safe: no Node-only imports here).
import { installNobleEcDefault } from './crypto/noble-ec.js';
import { installNobleHashDefault } from './crypto/noble-hash.js';

// The pure-JS elliptic-curve backend and hashes unless the host installed another (the Node CLIs install node:crypto).
installNobleEcDefault();
installNobleHashDefault();
export { IgvmError } from './errors.js';
export type { IgvmErrorDetails } from './errors.js';
export * from './model.js';
export { parseIgvm, readIgvm } from './format/index.js';
export type { ReadResult } from './format/parse.js';
export { computeChecksum } from './format/parse.js';
export { serializeIgvm } from './format/serialize.js';
export type { SerializeMode, SerializeOptions } from './format/serialize.js';
export { validateIgvm, SPEC_RULES } from './validate/index.js';
export type { ValidationResult } from './validate/index.js';
export type { Problem, Severity } from './format/problems.js';
export { IgvmBuilder } from './builder.js';
export type { BuilderOptions, PageOptions } from './builder.js';
export {
  decodeVmsa, encodeVmsa, decodeNativeContext, encodeNativeContext, decodeCcaContext, encodeCcaContext, decodeVbsValue, encodeVbsContext, x64Mode,
} from './format/contexts.js';
export type { VmsaFields, NativeContextFields, CcaContextFields, SevSelector } from './format/contexts.js';
export { inspectIgvm } from './inspect/report.js';
export type { InspectReport, PageRange, VpContextInfo } from './inspect/report.js';
export { renderInspect } from './inspect/render.js';
export { modelToJson } from './inspect/model-json.js';
export { dumpIgvmgen } from './igvmgen/dump.js';
export { crc32 } from './format/crc32.js';
export * from './spec/constants.js';
export * as layouts from './spec/layouts.js';
// igvmgen generation (IGVMGEN.md) and its building blocks
export { generateIgvmgen, DEFAULT_ID_BLOCK } from './igvmgen/generate.js';
export type { IgvmgenOptions, IgvmgenResult, IdBlockValues, Inform } from './igvmgen/generate.js';
export type { NamedInput } from './igvmgen/layout-bzimage.js';
export { measurementJson, measurementRepr } from './igvmgen/measurement-file.js';
export { decodeAcpiZip } from './igvmgen/acpi-zip.js';
export { buildAcpiFromDsl } from './igvmgen/acpi-dsl.js';
export type { AmlCompiler, DslFile } from './igvmgen/acpi-dsl.js';
export { parseElf, elfSymbols, findSection, objcopyBinary } from './igvmgen/elf.js';
export type { ElfFile, ElfSection, ElfSegment, ElfSymbol } from './igvmgen/elf.js';
export { buildDefaultAcpi } from './acpi/default.js';
export type { DefaultAcpiOptions } from './acpi/default.js';
export type { AcpiImage } from './acpi/image.js';
// SEV-SNP: launch digest chain, ID block, keys
export { SnpLaunchDigest, SNP_PAGE, zeroPageDigest } from './measure/snp-digest.js';
export type { SnpPageType, SnpStep } from './measure/snp-digest.js';
export { signIdBlock, verifyIdBlockSignature, idBlockHeader, idBlockMessage, idSignatureFromHeader, randomP384Key } from './snp/id-block.js';
export type { SnpIdBlockFields, IdSignature } from './snp/id-block.js';
export { parseTeiConfig } from './snp/tei-config.js';
export type { TeiConfig } from './snp/tei-config.js';
export { parseEcPrivateKey, parseEcPublicKey, ecPublicKeyOf } from './crypto/ec-key.js';
export type { EcPrivateKey, EcPublicKey } from './crypto/ec-key.js';
// pluggable primitives (node:crypto versions live in src/io and are installed by the CLIs)
export { setHashProvider, hashProvider } from './crypto/hash.js';
export { NOBLE_HASH } from './crypto/noble-hash.js';
export type { HashProvider, Hasher } from './crypto/hash.js';
export { setEcBackend, ecBackend } from './crypto/ec-backend.js';
export { NOBLE_EC } from './crypto/noble-ec.js';
export type { EcBackend, NistCurve } from './crypto/ec-backend.js';
// Loading as QEMU 10.2 does (QEMU-LOADER.md) and per-VMM SEV-SNP launch digests (MEASUREMENT.md §3)
export { loadIgvm, loadIgvmFile, missingFileFailure, e820Table, ramLayout, resolveConfig } from './load/index.js';
export type * from './load/plan.js';
export type { RamLayout } from './load/e820.js';
export { renderLoad, renderFailure } from './load/render.js';
export { loadResultToJson, planToJson } from './load/json.js';
export { qemuCommandLine, renderCommandLine } from './load/qemu/command-line.js';
export {
  SNP_MODELS, SNP_MODEL_DESCRIPTIONS, SNP_VMMS, measureSnp, compareSnpVmms,
  measureSnpIgvm, measureSnpIgvmmeasure, measureSnpClhKvm, measureSnpClhMshv, measureSnpQemu,
} from './measure/snp/index.js';
export type { SnpMeasureFn, SnpMeasureOptions, SnpMeasurement, SnpVmm, SnpComparison, SnpModelComparison, SnpDivergence } from './measure/snp/index.js';
// Building bootable images (igvm build) and the polyfill for QEMU without IGVM (igvm run)
export { buildIgvm, LAYOUT as BUILD_LAYOUT, BUILD_PLATFORMS } from './build/index.js';
export type { BuildOptions, BuildResult, BuildPlatform, BuildTarget } from './build/index.js';
export { buildFirmwareIgvm } from './build/firmware.js';
export { buildPolyfill, stubRom, descriptorOf } from './run/polyfill.js';
export type { Polyfill, PolyfillRegion } from './run/polyfill.js';
export { parseQemuVersion, supportsIgvm } from './run/qemu-version.js';
// Other platforms' launch measurements (MEASUREMENT.md §4–§6)
export { measureTdx } from './measure/tdx.js';
export { measureVbs } from './measure/vbs.js';
export { measureSevIgvmmeasure, sevLaunchMeasure, hmacSha256 } from './measure/sev.js';
export type { TdxMeasurement, TdxMeasureOptions } from './measure/tdx.js';
export type { VbsMeasurementResult, VbsMeasureOptions } from './measure/vbs.js';
export type { SevMeasurement, SevMeasureOptions, SevLaunchMeasureOptions } from './measure/sev.js';
export type { MeasureStep } from './measure/trace.js';
export { measureSevQemu } from './measure/sev-qemu.js';
export type { SevQemuMeasurement, SevQemuOptions } from './measure/sev-qemu.js';
export { referenceValues, REFERENCE_SCHEMA, MEASURED_PLATFORMS } from './measure/reference.js';
export type { ReferenceValues, PlatformReference, ReferenceOptions, MeasuredPlatform } from './measure/reference.js';
export { verifyIdBlocks, snpPublicKeyStructure } from './snp/verify.js';
export type { IdBlockVerification } from './snp/verify.js';
// Signing existing files (MEASUREMENT.md §7) and structural diffs
export { signIgvm, prepareIdBlock, idBlockToSign, parseIdBlockMessage, idKeyStructure, parseEcdsaSignature, verifyAuthorSignature } from './snp/sign.js';
export type { IdBlockRequest, PreparedIdBlock, SignIgvmOptions, SignIgvmResult, SignatureSource } from './snp/sign.js';
export { diffIgvm, renderDiff } from './diff/index.js';
export type { IgvmDiff, DiffOptions } from './diff/index.js';
