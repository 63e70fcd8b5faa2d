// QEMU's fatal errors while loading an IGVM file: `error_setg(errp, …)` propagated to `&error_fatal` (QEMU-LOADER.md §1, §10).
import type { LoadStage, QemuLine } from '../plan.js';

/** Thrown inside the loader model where QEMU fails; caught by loadIgvm and turned into a LoadFailure. */
export class QemuFailure extends Error {
  readonly stage: LoadStage;
  readonly directive: number | undefined;
  /** Lines QEMU prints before the fatal one (error_report / warn_report from the failing code path). */
  readonly before: QemuLine[];
  readonly kind: 'exit' | 'abort';
  /** igvmkit's explanation (QEMU does not print it). */
  readonly detail: string | undefined;

  constructor(message: string, stage: LoadStage, opts: { directive?: number; before?: QemuLine[]; kind?: 'exit' | 'abort'; detail?: string } = {}) {
    super(message);
    this.name = 'QemuFailure';
    this.stage = stage;
    this.directive = opts.directive;
    this.before = opts.before ?? [];
    this.kind = opts.kind ?? 'exit';
    this.detail = opts.detail;
  }
}
