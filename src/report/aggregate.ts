/**
 * Grouping runs into rows and reducing seeds to mean ± sample standard deviation.
 * Runs group when their key (dataset, arch, mixup mode, α, eligible layers) and their
 * recipe (width, schedule, loss, batch size, lr, weight decay, data limits) are equal.
 */
import { keyId, type Condition, type MetricKind, type RunKey } from './paper.js';
import type { AdversarialResult, Recipe, RunRecord, Skipped } from './runs.js';

/** Mean and sample standard deviation (n − 1); std is null when n < 2 (undefined, not 0). */
export interface Stat {
  n: number;
  mean: number;
  std: number | null;
}

export function meanStd(xs: number[]): Stat | null {
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, std: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { n, mean, std: Math.sqrt(ss / (n - 1)) };
}

export function recipeId(r: Recipe): string {
  return JSON.stringify([r.width, r.epochs, r.milestones, r.gamma, r.loss, r.batch_size, r.lr, r.weight_decay, r.train_limit, r.test_limit]);
}

/** "width 64 · 1200 epochs, lr 0.1 ×0.1 at 400, 800 · bce · batch 100 · wd 0.0001 · full data". */
export function recipeLabel(r: Recipe): string {
  const schedule = r.milestones.length ? `lr ${r.lr} ×${r.gamma} at ${r.milestones.join(', ')}` : `lr ${r.lr} constant`;
  const data =
    r.train_limit === null && r.test_limit === null
      ? 'full data'
      : `${r.train_limit ?? 'all'} train / ${r.test_limit ?? 'all'} test examples`;
  return `width ${r.width} · ${r.epochs} epochs, ${schedule} · ${r.loss} loss · batch ${r.batch_size} · wd ${r.weight_decay} · ${data}`;
}

/** One FGSM setting: results with different ε, space, clipping or loss never average together. */
export function attackId(a: Pick<AdversarialResult, 'attack' | 'eps' | 'space' | 'clip' | 'loss'>): string {
  return `${a.attack.toUpperCase()} ε=${epsLabel(a.eps, a.space)} ${a.space} ${a.clip ? 'clipped' : 'unclipped'} ${a.loss}`;
}

/** Pixel-space budgets are usually k/255: say so ("8/255") rather than 0.0313725. */
function epsLabel(eps: number, space: AdversarialResult['space']): string {
  const k = eps * 255;
  return space === 'pixel' && k >= 0.5 && Math.abs(k - Math.round(k)) < 1e-6 ? `${Math.round(k)}/255` : `${+eps.toPrecision(6)}`;
}

export interface Group {
  key: RunKey;
  recipe: Recipe;
  /** Sorted by seed; one run per seed. */
  runs: RunRecord[];
}

export const groupId = (g: { key: RunKey; recipe: Recipe }) => `${keyId(g.key)}#${recipeId(g.recipe)}`;

const MODE_ORDER = { none: 0, input: 1, manifold: 2 };

function compareGroups(a: Group, b: Group): number {
  const ka = a.key;
  const kb = b.key;
  return (
    ka.dataset.localeCompare(kb.dataset) ||
    ka.arch.localeCompare(kb.arch, undefined, { numeric: true }) ||
    recipeLabel(a.recipe).localeCompare(recipeLabel(b.recipe), undefined, { numeric: true }) ||
    MODE_ORDER[ka.mode] - MODE_ORDER[kb.mode] ||
    (ka.alpha ?? 0) - (kb.alpha ?? 0) ||
    ka.layers.join(',').localeCompare(kb.layers.join(','))
  );
}

/**
 * Groups runs by key and recipe. A seed that ran twice in one group counts once: the run
 * that finished last is kept and the others are reported as skipped.
 */
export function groupRuns(runs: RunRecord[]): { groups: Group[]; duplicates: Skipped[] } {
  const byId = new Map<string, Group>();
  for (const r of runs) {
    const id = groupId(r);
    const g = byId.get(id) ?? { key: r.key, recipe: r.recipe, runs: [] };
    byId.set(id, g);
    g.runs.push(r);
  }
  const duplicates: Skipped[] = [];
  for (const g of byId.values()) {
    const bySeed = new Map<number, RunRecord>();
    const newer = (a: RunRecord, b: RunRecord) => (a.endTime ?? '').localeCompare(b.endTime ?? '') || a.dir.localeCompare(b.dir);
    for (const r of g.runs) {
      const prev = bySeed.get(r.seed);
      if (!prev) {
        bySeed.set(r.seed, r);
        continue;
      }
      const [keep, drop] = newer(r, prev) > 0 ? [r, prev] : [prev, r];
      bySeed.set(r.seed, keep);
      duplicates.push({ dir: drop.dir, reason: `seed ${r.seed} also in ${keep.dir}, which finished later` });
    }
    g.runs = [...bySeed.values()].sort((a, b) => a.seed - b.seed);
  }
  return { groups: [...byId.values()].sort(compareGroups), duplicates };
}

export type Which = 'final' | 'best';

/**
 * One number per run for a metric, in the paper's units (percent, or nats for NLL); runs that
 * did not measure it give none. `attack` selects the FGSM setting for the fgsm condition.
 */
export function runValue(r: RunRecord, metric: MetricKind, condition: Condition, which: Which, attack?: string): number | undefined {
  if (condition.kind === 'deformation' || metric === 'top5') return undefined;
  if (condition.kind === 'fgsm') {
    // 'final' is an attack on the last epoch's weights, 'best' on the best epoch's.
    const checkpoint = which === 'final' ? 'last' : 'best';
    const hit = r.adversarial.find((a) => a.checkpoint === checkpoint && attackId(a) === attack);
    if (!hit) return undefined;
    return metric === 'accuracy' ? 100 * hit.accuracy : metric === 'error' ? 100 * (1 - hit.accuracy) : undefined;
  }
  const f = r[which];
  return metric === 'error' ? 100 * f.test_err : metric === 'accuracy' ? 100 * f.test_acc : f.test_nll;
}

/** The values of the group's runs that measured the metric, with their seeds. */
export function groupValues(g: Group | undefined, metric: MetricKind, condition: Condition, which: Which, attack?: string): { seed: number; value: number }[] {
  return (g?.runs ?? []).flatMap((r) => {
    const value = runValue(r, metric, condition, which, attack);
    return value === undefined ? [] : [{ seed: r.seed, value }];
  });
}

export function groupStat(g: Group | undefined, metric: MetricKind, condition: Condition, which: Which, attack?: string): Stat | null {
  return meanStd(groupValues(g, metric, condition, which, attack).map((v) => v.value));
}

/** FGSM settings measured by any run of the groups, sorted, each with the weights attacked. */
export function attacksOf(groups: Group[]): { attack: string; which: Which }[] {
  const seen = new Map<string, { attack: string; which: Which }>();
  for (const a of groups.flatMap((g) => g.runs.flatMap((r) => r.adversarial))) {
    const which: Which = a.checkpoint === 'last' ? 'final' : 'best';
    seen.set(`${attackId(a)}|${which}`, { attack: attackId(a), which });
  }
  return [...seen.values()].sort((a, b) => a.attack.localeCompare(b.attack, undefined, { numeric: true }) || a.which.localeCompare(b.which) * -1);
}
