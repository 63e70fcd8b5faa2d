// `igvm qemu-args FILE [--memory] [--vcpus] [--platform] [--machine] [--accel] [--json]`: the QEMU command line that loads the file (QEMU-LOADER.md §1).
import { stringOption, type CommandSpec } from '../framework.js';
import type { QemuAccel } from '../../load/index.js';
import { IgvmError } from '../../errors.js';
import type { IgvmFile } from '../../model.js';
import { QEMU_OPTIONS, qemuConfigFrom } from './load.js';

export const qemuArgsCommand: CommandSpec = {
  name: 'qemu-args',
  summary: 'print the qemu-system-x86_64 command line that loads a file (igvm-cfg, SEV object with the file\'s policy)',
  usage: 'FILE [--platform auto|native|sev|sev-es|sev-snp] [--memory 512M] [--vcpus N] [--machine q35|pc] [--accel tcg|kvm] [--json]',
  description:
    'Prints one option per line, shell-quoted and continued with a backslash (paste it into a shell); --json prints the argument vector. ' +
    'The machine gets igvm-cfg=igvm0 (and confidential-guest-support=sev0 for SEV), the file goes to -object igvm-cfg, an SEV-SNP guest gets ' +
    "-object sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=<the file's GUEST_POLICY>, SEV/SEV-ES a sev-guest with policy 0x1/0x5, then -accel, -cpu (EPYC-v4 for SEV), -m, -smp and " +
    '-nodefaults -display none -serial stdio. --accel defaults to kvm when an SEV object is configured (QEMU cannot run one under TCG), else tcg. ' +
    "If QEMU would fail to load the file with this command line, its message is shown on stderr (the command is still printed, exit 0).",
  positionals: [{ name: 'FILE', description: 'IGVM file (the path is put into the command line as given)' }],
  options: [
    ...QEMU_OPTIONS,
    { name: 'accel', type: 'choice', choices: ['tcg', 'kvm'], description: 'accelerator (default: kvm with an SEV object, else tcg)' },
    { name: 'json', type: 'boolean', description: 'print the argument vector as a JSON array' },
  ],
  examples: [
    { command: 'igvm qemu-args guest.igvm', description: 'TCG command line for a native file' },
    { command: 'igvm qemu-args snp.igvm --vcpus 4 --memory 2G', description: 'SEV-SNP command line with the file\'s policy' },
    { command: 'igvm qemu-args guest.igvm --json', description: 'the arguments as a JSON array' },
  ],
  async run(ctx) {
    // Loaded when the command runs, so the other commands start without these modules.
    const [{ readInput }, { loadIgvm, resolveConfig }, { qemuCommandLine, renderCommandLine }, { renderFailure }, { parseIgvm }, { toJson }] = await Promise.all([
      import('../../io/files.js'), import('../../load/index.js'), import('../../load/qemu/command-line.js'),
      import('../../load/render.js'), import('../../format/index.js'), import('../json.js'),
    ]);
    const path = ctx.args.positionals[0]!;
    const bytes = readInput(path);
    let file: IgvmFile | undefined;
    try {
      file = parseIgvm(bytes);
    } catch (e) {
      if (!(e instanceof IgvmError)) throw e;
    }
    const given = stringOption(ctx.args, 'accel') as QemuAccel | undefined;
    const probe = resolveConfig(qemuConfigFrom(ctx, given ?? 'kvm'), file);
    const accel: QemuAccel = given ?? (probe.objectType !== undefined ? 'kvm' : 'tcg');
    const config = qemuConfigFrom(ctx, accel);
    const argv = qemuCommandLine(resolveConfig(config, file), path);
    ctx.out(ctx.args.options['json'] ? toJson(argv) : renderCommandLine(argv));
    const result = loadIgvm(bytes, config, path);
    if (!result.ok) ctx.err(`${ctx.program}: note: QEMU 10.2 would fail to load ${path} with this command line:\n${renderFailure(result.failure)}`);
    return 0;
  },
};
