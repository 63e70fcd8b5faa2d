// igvmkit public library API (browser-safe: no Node-only imports here).
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
