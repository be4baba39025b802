/** Fake run directories with chosen figures, in the on-disk layout of DESIGN §3. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as YAML from 'yaml';

export interface FakeRun {
  dataset?: string;
  arch?: string;
  mode?: 'none' | 'input' | 'manifold';
  alpha?: number;
  layers?: number[];
  seed?: number;
  width?: number;
  epochs?: number;
  milestones?: number[];
  loss?: 'bce' | 'ce';
  batchSize?: number;
  trainLimit?: number | null;
  status?: 'running' | 'done' | 'failed' | 'interrupted';
  /** Final and best test error (fractions) and NLL. */
  final?: { err: number; nll: number };
  best?: { err: number; nll: number; epoch: number };
  /** Per-epoch [train_loss, test_err, test_loss]; defaults to a two-epoch curve ending at `final`. */
  curve?: [number, number, number][];
  adversarial?: { eps: number; space: 'pixel' | 'normalized'; clip: boolean; loss: 'bce' | 'ce'; accuracy: number; attack?: 'fgsm' | 'pgd' }[];
  /** adversarial.json's `checkpoint`: which weights were attacked. */
  attacked?: 'last' | 'best';
  endTime?: string;
  /** Leave summary.json out (a done run that lost it). */
  noSummary?: boolean;
}

export function writeFakeRun(root: string, name: string, f: FakeRun): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const mode = f.mode ?? 'none';
  const alpha = mode === 'none' ? null : (f.alpha ?? (mode === 'input' ? 1 : 2));
  const layers = mode === 'none' ? [] : mode === 'input' ? [0] : (f.layers ?? [0, 1, 2]);
  const seed = f.seed ?? 0;
  const epochs = f.epochs ?? 2;
  const config = {
    name, seed, backend: 'auto',
    dataset: { name: f.dataset ?? 'cifar10', dir: null, train_limit: f.trainLimit ?? null, test_limit: null, augment: { crop_padding: 2, flip: true }, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    model: { arch: f.arch ?? 'preactresnet18', width: f.width ?? 64, final_bn: false },
    mixup: { mode, alpha, layers },
    train: {
      epochs, batch_size: f.batchSize ?? 100, loss: f.loss ?? 'bce', lr: 0.1, momentum: 0.9, nesterov: true,
      weight_decay: 0.0001, milestones: f.milestones ?? [], gamma: 0.1, micro_batch: 'auto',
    },
    eval: { batch_size: 500 },
  };
  writeFileSync(join(dir, 'config.yaml'), YAML.stringify(config));
  const status = f.status ?? 'done';
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ run_id: name, seed, status, start_time: '2026-01-01T00:00:00.000Z', end_time: f.endTime ?? '2026-01-01T01:00:00.000Z' }));
  const final = f.final ?? { err: 0.1, nll: 0.5 };
  const best = f.best ?? { ...final, epoch: epochs };
  const curve = f.curve ?? [[1.0, final.err + 0.05, final.nll + 0.1], [0.5, final.err, final.nll]];
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    curve.map(([tl, te, nll], i) => JSON.stringify({ epoch: i + 1, lr: 0.1, train_loss: tl, train_acc: 0.5, test_loss: nll, test_acc: 1 - te, test_err: te, seconds: 1, images_per_s: 100 })).join('\n') + '\n',
  );
  if (status === 'done' && !f.noSummary) {
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({
      run_id: name, dataset: config.dataset.name, arch: config.model.arch, width: config.model.width, mixup: config.mixup,
      loss: config.train.loss, seed, epochs,
      final: { test_acc: 1 - final.err, test_err: final.err, test_nll: final.nll },
      best: { test_acc: 1 - best.err, test_err: best.err, test_nll: best.nll, epoch: best.epoch },
      params: 1, train_seconds: 1, images_per_s: 100, backend: 'wasm',
    }));
  }
  if (f.adversarial) {
    // The layout src/eval/adversarial.ts writes: a header, then one row per attack setting.
    writeFileSync(join(dir, 'adversarial.json'), JSON.stringify({
      checkpoint: f.attacked ?? 'last',
      n: 10000,
      results: f.adversarial.map((a) => {
        const steps = a.attack === 'pgd' ? 7 : 1;
        return { attack: 'fgsm', eps_text: String(a.eps), steps, step_size: steps > 1 ? a.eps / 4 : null, ...a, clean_accuracy: 1 - final.err };
      }),
    }));
  }
  return dir;
}

const FGSM = { eps: 0.03, space: 'normalized', clip: false, loss: 'bce' } as const;
const PAPER_RECIPE = { epochs: 1200, milestones: [400, 800] };

/**
 * The runs behind the golden tables: CIFAR-10 PreActResNet18 at the paper's recipe (three
 * modes, 3 / 2 / 1 seeds), runs that must not join those rows (other α, other layers, other
 * schedule), a repeated seed, and runs that must be skipped (failed, running, no summary).
 */
export function writeGoldenRuns(root: string): void {
  const r18 = { dataset: 'cifar10', arch: 'preactresnet18', ...PAPER_RECIPE };
  writeFakeRun(root, 'c10/none-s0', { ...r18, seed: 0, final: { err: 0.05, nll: 0.2 }, best: { err: 0.048, nll: 0.21, epoch: 900 }, adversarial: [{ ...FGSM, accuracy: 0.3 }] });
  writeFakeRun(root, 'c10/none-s1', { ...r18, seed: 1, final: { err: 0.052, nll: 0.19 }, best: { err: 0.05, nll: 0.19, epoch: 1100 }, adversarial: [{ ...FGSM, accuracy: 0.34 }, { ...FGSM, attack: 'pgd', accuracy: 0.01 }] });
  // FGSM on the best epoch's weights: a view of its own, never averaged with attacks on the last epoch's.
  writeFakeRun(root, 'c10/input-s1', { ...r18, mode: 'input', alpha: 1, seed: 1, final: { err: 0.039, nll: 0.17 }, attacked: 'best', adversarial: [{ ...FGSM, accuracy: 0.7 }] });
  writeFakeRun(root, 'c10/none-s2', { ...r18, seed: 2, final: { err: 0.049, nll: 0.18 }, best: { err: 0.049, nll: 0.18, epoch: 1200 } });
  writeFakeRun(root, 'c10/input-s0', { ...r18, mode: 'input', alpha: 1, seed: 0, final: { err: 0.038, nll: 0.18 } });
  writeFakeRun(root, 'c10/manifold-s0', { ...r18, mode: 'manifold', alpha: 2, seed: 0, final: { err: 0.03, nll: 0.14 }, adversarial: [{ ...FGSM, accuracy: 0.75 }, { eps: 8 / 255, space: 'pixel', clip: true, loss: 'ce', accuracy: 0.5 }] });
  // Same seed again, finished earlier: must not count.
  writeFakeRun(root, 'c10/manifold-s0-old', { ...r18, mode: 'manifold', alpha: 2, seed: 0, final: { err: 0.9, nll: 9 }, endTime: '2025-01-01T00:00:00.000Z' });
  // Different α, different layers: their own groups, not Table 1a's manifold cell.
  writeFakeRun(root, 'c10/manifold-a1', { ...r18, mode: 'manifold', alpha: 1, seed: 0, final: { err: 0.2, nll: 1 } });
  writeFakeRun(root, 'c10/manifold-l01', { ...r18, mode: 'manifold', alpha: 2, layers: [0, 1], seed: 0, final: { err: 0.3, nll: 1 } });
  // A short schedule of a paper row: a section of its own.
  writeFakeRun(root, 'short/r34-none-s0', { dataset: 'cifar10', arch: 'preactresnet34', width: 16, epochs: 10, seed: 0, final: { err: 0.25, nll: 0.8 } });
  // Not finished.
  writeFakeRun(root, 'bad/failed', { ...r18, status: 'failed' });
  writeFakeRun(root, 'bad/running', { ...r18, status: 'running' });
  writeFakeRun(root, 'bad/nosummary', { ...r18, noSummary: true });
}
