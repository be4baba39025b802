/** `mixup-run models`: every architecture with its parameter counts and mixing layers. */
import { Command, Option } from 'commander';
import { ARCH_INFO, describeModel, MODEL_NAMES } from '../models/registry.js';
import { selectBackend } from '../runtime/backend.js';
import { UsageError } from '../runtime/errors.js';
import type { Reporter } from './report.js';

interface ModelsFlags {
  width?: string;
  inputSize: string;
  channels: string;
  json?: boolean;
}

const positive = (flag: string, v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} ${v}: expected a whole number ≥ 1`);
  return Number(v);
};

export function modelsCommand(report: Reporter): Command {
  return new Command('models')
    .description('list the architectures with their parameter counts (10 and 100 classes) and mixing layers')
    .option('--width <n>', "stem channels for every architecture (default: each one's paper width)")
    .addOption(new Option('--input-size <px>', 'input height = width (64 gives a stride-2 stem)').choices(['32', '64']).default('32'))
    .option('--channels <n>', 'input channels', '3')
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Mixing layers: 0 = the input, k = the output of stage k; Manifold Mixup's default set is
{0,1,2} and config key mixup.layers picks any subset. Counts are trainable parameters
(BatchNorm running statistics excluded), as PyTorch's sum(p.numel() for p in model.parameters()).`,
    )
    .action(async (flags: ModelsFlags) => {
      const size = Number(flags.inputSize);
      const channels = positive('--channels', flags.channels);
      const width = flags.width === undefined ? undefined : positive('--width', flags.width);
      // Shape-only models allocate no weights, but still need a backend for their placeholder.
      await selectBackend('cpu');
      const rows = MODEL_NAMES.map((arch) => {
        const info = ARCH_INFO[arch];
        const opts = { inputShape: [size, size, channels] as [number, number, number], width: width ?? info.paperWidth, finalBn: false };
        const d10 = describeModel(arch, { ...opts, classes: 10 });
        const d100 = describeModel(arch, { ...opts, classes: 100 });
        return {
          arch,
          block: info.block,
          blocks_per_stage: info.depths,
          width: opts.width,
          params_10: d10.params,
          params_100: d100.params,
          mix_layers: d10.mixLayers,
          default_mix_layers: info.defaultMixLayers,
          final_bn_option: info.finalBnOption,
        };
      });
      if (flags.json) {
        report.out(JSON.stringify(rows, null, 2));
        return;
      }
      const n = (v: number) => v.toLocaleString('en-US');
      const table = [
        ['arch', 'block', 'blocks/stage', 'width', 'params (10 cl.)', 'params (100 cl.)', 'mixing layers (default)'],
        ...rows.map((r) => [r.arch, r.block, r.blocks_per_stage.join('-'), String(r.width), n(r.params_10), n(r.params_100), `${r.mix_layers.join(',')} (${r.default_mix_layers.join(',')})`]),
      ];
      const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
      const right = new Set([3, 4, 5]);
      for (const row of table) report.out(row.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
      report.out(`\ninput ${size}×${size}×${channels}; width = stem channels; wrn* always end in BN-ReLU, preactresnet* only with model.final_bn`);
    });
}
