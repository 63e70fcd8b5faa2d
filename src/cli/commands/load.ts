// `igvm load FILE [--vmm qemu] [--platform …] [--memory SIZE] [--vcpus N] [--machine q35|pc] [--accel tcg|kvm] [--json] [--dump-memory DIR]` (QEMU-LOADER.md §2–§11).
import { join } from 'node:path';
import { UsageError, numberOption, stringOption, type CommandContext, type CommandSpec, type OptionSpec } from '../framework.js';
import type { LoadResult, QemuAccel, QemuConfig, QemuMachine, QemuPlatformChoice } from '../../load/index.js';

/** The options `load` and `qemu-args` share. */
export const QEMU_OPTIONS: readonly OptionSpec[] = [
  { name: 'platform', type: 'choice', choices: ['auto', 'native', 'sev', 'sev-es', 'sev-snp'], default: 'auto', description: 'confidential-guest object: auto = for the strongest platform the file declares; native = none; sev / sev-es = sev-guest (without / with the ES policy bit); sev-snp = sev-snp-guest' },
  { name: 'memory', type: 'size', default: '512M', description: 'guest RAM (-m)' },
  { name: 'vcpus', type: 'number', default: 1, valueName: 'N', description: 'vCPU count (-smp)' },
  { name: 'machine', type: 'choice', choices: ['q35', 'pc'], default: 'q35', description: 'machine type' },
];

/** The QEMU configuration from the shared options (accel handled by each command). */
export function qemuConfigFrom(ctx: CommandContext, accel: QemuAccel | undefined): QemuConfig {
  const vcpus = numberOption(ctx.args, 'vcpus') ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new UsageError(`option '--vcpus' expects a positive integer, got ${vcpus}`);
  const memory = numberOption(ctx.args, 'memory') ?? 512 * 2 ** 20;
  if (memory <= 0) throw new UsageError(`option '--memory' expects a positive size, got ${memory}`);
  return {
    platform: (stringOption(ctx.args, 'platform') ?? 'auto') as QemuPlatformChoice,
    memory: BigInt(memory),
    vcpus,
    machine: (stringOption(ctx.args, 'machine') ?? 'q35') as QemuMachine,
    ...(accel !== undefined ? { accel } : {}),
  };
}

export const loadCommand: CommandSpec = {
  name: 'load',
  summary: 'predict what QEMU 10.2 does with a file: guest memory, parameters, vCPU state, SEV-SNP launch, or its error',
  usage: 'FILE [--vmm qemu] [--platform auto|native|sev|sev-es|sev-snp] [--memory 512M] [--vcpus N] [--machine q35|pc] [--accel tcg|kvm] [--json] [--dump-memory DIR]',
  description:
    'Models QEMU 10.2 (x86_64, --enable-igvm, igvm library 0.4.0) started with -object igvm-cfg and -nodefaults: platform choice, ' +
    'every directive (page merging and late flushing, parameter areas, memory map, VP contexts, ID block, policy) and the SEV checks. ' +
    'Prints the platform, the E820 map, the memory regions QEMU populates (GPA range, source, RAM region, SEV page type), what the guest reads in each parameter area, ' +
    'the key registers of each vCPU and, for SEV-SNP, the launch updates in the order KVM issues them. ' +
    'When QEMU would fail, prints its message as `qemu-system-x86_64: …` on stderr and exits 1. SEV objects need KVM: with the default --accel tcg ' +
    'an SEV-SNP file fails as QEMU does; use --accel kvm (an SEV-SNP capable AMD host is assumed) for the full plan.',
  positionals: [{ name: 'FILE', description: 'IGVM file (- for standard input)' }],
  options: [
    { name: 'vmm', type: 'choice', choices: ['qemu'], default: 'qemu', description: 'virtual machine monitor to model' },
    ...QEMU_OPTIONS,
    { name: 'accel', type: 'choice', choices: ['tcg', 'kvm'], default: 'tcg', description: 'accelerator' },
    { name: 'json', type: 'boolean', description: 'print the whole result as JSON (page contents as SHA-384)' },
    { name: 'dump-memory', type: 'string', valueName: 'DIR', description: 'write each populated region (guest-visible contents) to DIR as NNN-gpa-<GPA>-<source>.bin, plus index.json' },
  ],
  examples: [
    { command: 'igvm load guest.igvm', description: 'what QEMU does with a native file under TCG' },
    { command: 'igvm load snp.igvm --accel kvm --vcpus 4', description: 'SEV-SNP plan with the launch-update order KVM uses' },
    { command: 'igvm load guest.igvm --json | jq .plan.parameter_areas', description: 'parameter areas as the guest sees them' },
    { command: 'igvm load guest.igvm --dump-memory out/', description: 'guest memory regions as files' },
  ],
  async run(ctx) {
    // Loaded when the command runs, so the other commands start without these modules.
    const [{ readInput }, { loadIgvm }, { loadResultToJson }, { renderFailure, renderLoad }, { toJson }] = await Promise.all([
      import('../../io/files.js'), import('../../load/index.js'), import('../../load/json.js'), import('../../load/render.js'), import('../json.js'),
    ]);
    const path = ctx.args.positionals[0]!;
    const bytes = readInput(path);
    const accel = (stringOption(ctx.args, 'accel') ?? 'tcg') as QemuAccel;
    const result = loadIgvm(bytes, qemuConfigFrom(ctx, accel), path);
    const dir = stringOption(ctx.args, 'dump-memory');
    if (result.ok && dir !== undefined) await dumpMemory(dir, result);
    if (ctx.args.options['json']) ctx.out(toJson(loadResultToJson(result)));
    else if (result.ok) ctx.out(renderLoad(result, path));
    if (result.ok) return 0;
    ctx.err(renderFailure(result.failure));
    if (result.failure.detail) ctx.err(`${ctx.program}: note: ${result.failure.detail}\n`);
    if (result.failure.stage === 'machine-memory' || result.failure.stage === 'machine-done') {
      ctx.err(`${ctx.program}: note: SEV guests need KVM; add --accel kvm to see the plan on an SEV-capable host\n`);
    }
    return 1;
  },
};

async function dumpMemory(dir: string, result: Extract<LoadResult, { ok: true }>): Promise<void> {
  const [{ ensureDir, writeAtomicMany }, { dumpFiles }, { toJson }] = await Promise.all([
    import('../../io/files.js'), import('../../load/dump.js'), import('../json.js'),
  ]);
  const { files, index } = dumpFiles(result.plan);
  ensureDir(dir);
  writeAtomicMany([
    ...files.map((f) => ({ path: join(dir, f.name), data: f.data })),
    { path: join(dir, 'index.json'), data: toJson({ platform: result.plan.platform, regions: index }) },
  ]);
}
