// Every structure layout of the format in one namespace (FORMAT.md Appendix A).
export * from './fixed-header.js';
export * from './platform.js';
export * from './initialization.js';
export * from './directives.js';
export * from './snp-id-block.js';
export * from './vbs-measurement.js';
export * from './native-context.js';
export * from './vmsa.js';
export * from './vbs-context.js';
export { defineStruct } from './struct.js';
export type { StructLayout, FieldDef, StructValue } from './struct.js';
