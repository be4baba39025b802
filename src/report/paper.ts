/**
 * The paper's reference numbers (SPEC §6) as data: every figure carries its source (paper
 * version and table), what it measures, and the key of the runs it compares with.
 * Verma et al., "Manifold Mixup", arXiv 1806.05236: v3 = ICLR 2019 submission, v7 = ICML 2019.
 */

export const PAPER_DATASETS = ['cifar10', 'cifar100', 'svhn', 'tiny-imagenet', 'fashion-mnist', 'fashion-mnist-subset'] as const;
export const PAPER_ARCHS = ['preactresnet18', 'preactresnet34', 'preactresnet50', 'preactresnet152', 'wrn28_10', 'wrn28_2'] as const;
export type PaperDataset = (typeof PAPER_DATASETS)[number];
export type PaperArch = (typeof PAPER_ARCHS)[number];
export type MixupMode = 'none' | 'input' | 'manifold';

/**
 * What identifies a row of runs. Runs may use datasets and archs the paper never did, so the
 * names are plain strings here; the paper's own figures use the names above.
 */
export interface RunKey {
  dataset: string;
  arch: string;
  mode: MixupMode;
  /** null for mode 'none'. */
  alpha: number | null;
  /** Eligible layers S, sorted: [] for 'none', [0] for 'input'. */
  layers: number[];
  /** A training variant the supervised runner does not have (dropout, semi-supervised, …); runs have none. */
  variant?: string;
}

/** error / accuracy / top5 are percentages; nll is the mean test NLL in nats. */
export type MetricKind = 'error' | 'accuracy' | 'nll' | 'top5';

/** The test set a figure is measured on: clean, FGSM-attacked, or deformed. */
export type Condition = { kind: 'clean' } | { kind: 'fgsm' } | { kind: 'deformation'; name: string };

export interface PaperSource {
  /** 'unstated' where SPEC §6 does not say which version the table comes from. */
  version: 'v3' | 'v7' | 'unstated';
  table: string;
  /** Runs behind each figure, when the paper says. */
  runs?: number;
  note?: string;
}

/** One cell of a paper table: where it sits, what runs it compares with, and the published figure. */
export interface PaperCell {
  row: string;
  col: string;
  key: RunKey;
  /** null where the paper leaves the cell empty. */
  paper: { mean: number; std?: number } | null;
  /** Where a cell differs from its panel (Table 3's top-5 column, each deformation row). */
  metric?: MetricKind;
  condition?: Condition;
}

/** A grid of cells; the metric and condition are the panel's unless a cell says otherwise. */
export interface Panel {
  title: string;
  metric: MetricKind;
  /** Its kind decides the views: clean → final and best epoch; fgsm → one per attack setting. */
  condition: Condition;
  rowHeader: string;
  rows: string[];
  cols: string[];
  cells: PaperCell[];
}

export interface PaperTable {
  id: TableId;
  title: string;
  source: PaperSource;
  /** What a reader must know to compare: layer-set conventions, unknown settings. */
  notes: string[];
  panels: Panel[];
  /** The published training schedule per architecture, for running the rows. */
  schedule: Partial<Record<PaperArch, { epochs: number; milestones: number[] | null }>>;
}

/** A paper figure on its own, with its source: the flat view of the tables. */
export interface PaperFigure {
  table: TableId;
  source: PaperSource;
  key: RunKey;
  metric: MetricKind;
  condition: Condition;
  mean: number;
  std?: number;
}

export const TABLE_IDS = [
  'table1a', 'table1b', 'table2', 'table3', 'table5', 'table6', 'fgsm', 'deformations', 'regularizers', 'v3-table1', 'semi-supervised',
] as const;
export type TableId = (typeof TABLE_IDS)[number];

// ---- keys -------------------------------------------------------------------------------

export const DEFAULT_MANIFOLD_LAYERS = [0, 1, 2];

export function noMixup(dataset: string, arch: string): RunKey {
  return { dataset, arch, mode: 'none', alpha: null, layers: [] };
}
export function inputMixup(dataset: string, arch: string, alpha: number): RunKey {
  return { dataset, arch, mode: 'input', alpha, layers: [0] };
}
export function manifoldMixup(dataset: string, arch: string, alpha: number, layers = DEFAULT_MANIFOLD_LAYERS): RunKey {
  return canonicalKey({ dataset, arch, mode: 'manifold', alpha, layers });
}

/**
 * One spelling per experiment: S = {0} is Input Mixup and S = {} is no mixup (SPEC §1), so a
 * manifold run restricted to layer 0 lands in the same row as an input run.
 */
export function canonicalKey(k: RunKey): RunKey {
  const layers = [...new Set(k.layers)].sort((a, b) => a - b);
  const base = k.variant === undefined ? {} : { variant: k.variant };
  if (k.mode === 'none' || layers.length === 0) return { dataset: k.dataset, arch: k.arch, mode: 'none', alpha: null, layers: [], ...base };
  if (k.mode === 'input' || (layers.length === 1 && layers[0] === 0)) {
    return { dataset: k.dataset, arch: k.arch, mode: 'input', alpha: k.alpha, layers: [0], ...base };
  }
  return { dataset: k.dataset, arch: k.arch, mode: 'manifold', alpha: k.alpha, layers, ...base };
}

/** A string equal for two keys exactly when they name the same experiment. */
export function keyId(k: RunKey): string {
  const c = canonicalKey(k);
  return [c.dataset, c.arch, c.mode, c.alpha ?? '', c.layers.join(','), c.variant ?? ''].join('|');
}

// ---- labels -----------------------------------------------------------------------------

const ARCH_LABELS: Record<string, string> = {
  preactresnet18: 'PreActResNet18', preactresnet34: 'PreActResNet34', preactresnet50: 'PreActResNet50',
  preactresnet101: 'PreActResNet101', preactresnet152: 'PreActResNet152', wrn28_10: 'WRN-28-10', wrn28_2: 'WRN-28-2',
};
const DATASET_LABELS: Record<string, string> = {
  cifar10: 'CIFAR-10', cifar100: 'CIFAR-100', svhn: 'SVHN', 'tiny-imagenet': 'Tiny-ImageNet',
  'fashion-mnist': 'Fashion-MNIST', 'fashion-mnist-subset': 'Fashion-MNIST subset',
};
export const archLabel = (a: string) => ARCH_LABELS[a] ?? a;
export const datasetLabel = (d: string) => DATASET_LABELS[d] ?? d;
export const layersLabel = (layers: number[]) => `{${layers.join(',')}}`;

/** "No Mixup", "Input Mixup α=1", "Manifold Mixup α=2 S={0,1,2}". */
export function mixupLabel(k: RunKey): string {
  const c = canonicalKey(k);
  const v = c.variant ? ` [${c.variant}]` : '';
  if (c.mode === 'none') return `No Mixup${v}`;
  if (c.mode === 'input') return `Input Mixup α=${c.alpha}${v}`;
  return `Manifold Mixup α=${c.alpha} S=${layersLabel(c.layers)}${v}`;
}

export const METRIC_LABELS: Record<MetricKind, string> = {
  error: 'test error %', accuracy: 'test accuracy %', nll: 'test NLL', top5: 'top-5 accuracy %',
};

// ---- the tables -------------------------------------------------------------------------

type Fig = [mean: number, std?: number] | null;
const CLEAN: Condition = { kind: 'clean' };
const MODE_COLS = ['No Mixup', 'Input Mixup α=1', 'Manifold Mixup α=2'];
const MAIN_ARCHS = ['preactresnet18', 'preactresnet34', 'wrn28_10'] as const;
const MAIN_SCHEDULE = {
  // Paper text; the code README uses 2000 epochs with milestones 500, 1000, 1500 (SPEC §4).
  preactresnet18: { epochs: 1200, milestones: [400, 800] },
  preactresnet34: { epochs: 1200, milestones: [400, 800] },
  wrn28_10: { epochs: 400, milestones: [200, 300] },
};
const ABLATION_SCHEDULE = { preactresnet18: { epochs: 2000, milestones: [1000, 1500] } };
const WRN_LAYERS_NOTE = 'WRN-28-10 rows compare with runs at S = {0,1,2} (official code); the paper\'s appendix says {0,1}.';

function cell(row: string, col: string, key: RunKey, fig: Fig, own: Pick<PaperCell, 'metric' | 'condition'> = {}): PaperCell {
  return { row, col, key: canonicalKey(key), paper: fig && (fig[1] === undefined ? { mean: fig[0] } : { mean: fig[0], std: fig[1] }), ...own };
}

export const cellMetric = (p: Panel, c: PaperCell) => c.metric ?? p.metric;
export const cellCondition = (p: Panel, c: PaperCell) => c.condition ?? p.condition;

function panel(title: string, metric: MetricKind, rowHeader: string, cells: PaperCell[], condition: Condition = CLEAN): Panel {
  const uniq = (xs: string[]) => [...new Set(xs)];
  return { title, metric, condition, rowHeader, rows: uniq(cells.map((c) => c.row)), cols: uniq(cells.map((c) => c.col)), cells };
}

/** Tables 1a, 1b, 2: rows = architecture, columns = mode; error % and NLL, each "mean ± std". */
function modeTable(id: TableId, dataset: PaperDataset, title: string, figs: Record<(typeof MAIN_ARCHS)[number], [Fig, Fig][]>): PaperTable {
  const keys = (arch: string) => [noMixup(dataset, arch), inputMixup(dataset, arch, 1), manifoldMixup(dataset, arch, 2)];
  const cells = (which: 0 | 1) =>
    MAIN_ARCHS.flatMap((arch) => keys(arch).map((k, m) => cell(archLabel(arch), MODE_COLS[m], k, figs[arch][m][which])));
  return {
    id, title, source: { version: 'v7', table: title.split(':')[0], runs: 5 }, notes: [WRN_LAYERS_NOTE],
    panels: [panel('test error %', 'error', 'model', cells(0)), panel('test NLL', 'nll', 'model', cells(1))],
    schedule: MAIN_SCHEDULE,
  };
}

const TABLE1A = modeTable('table1a', 'cifar10', 'Table 1a: CIFAR-10', {
  preactresnet18: [[[4.83, 0.066], [0.190, 0.003]], [[3.82, 0.048], [0.186, 0.004]], [[2.95, 0.046], [0.137, 0.003]]],
  preactresnet34: [[[4.64, 0.072], [0.200, 0.002]], [[2.88, 0.043], [0.176, 0.002]], [[2.54, 0.047], [0.118, 0.002]]],
  wrn28_10: [[[3.99, 0.118], [0.162, 0.004]], [[2.92, 0.088], [0.173, 0.001]], [[2.55, 0.024], [0.111, 0.001]]],
});

const TABLE1B = modeTable('table1b', 'cifar100', 'Table 1b: CIFAR-100', {
  preactresnet18: [[[24.01, 0.376], [1.189, 0.002]], [[22.11, 0.424], [1.055, 0.006]], [[20.34, 0.525], [0.912, 0.002]]],
  preactresnet34: [[[23.55, 0.399], [1.189, 0.002]], [[20.53, 0.330], [1.039, 0.045]], [[18.35, 0.360], [0.877, 0.053]]],
  wrn28_10: [[[21.72, 0.117], [1.023, 0.004]], [[18.89, 0.111], [0.927, 0.031]], [[18.04, 0.171], [0.809, 0.005]]],
});

const TABLE2 = modeTable('table2', 'svhn', 'Table 2: SVHN', {
  preactresnet18: [[[2.89, 0.224], [0.136, 0.001]], [[2.76, 0.014], [0.212, 0.011]], [[2.27, 0.011], [0.122, 0.006]]],
  preactresnet34: [[[2.97, 0.004], [0.165, 0.003]], [[2.67, 0.020], [0.199, 0.009]], [[2.18, 0.004], [0.137, 0.008]]],
  wrn28_10: [[[2.80, 0.044], [0.143, 0.002]], [[2.68, 0.103], [0.184, 0.022]], [[2.06, 0.068], [0.126, 0.008]]],
});

function v3Table1(): PaperTable {
  const cols = [...MODE_COLS, 'Manifold Mixup all layers α=6'];
  const rows: [PaperDataset, PaperArch, [Fig, Fig][]][] = [
    ['cifar10', 'preactresnet18', [[[5.12], [0.2646]], [[3.50], [0.1945]], [[2.89], [0.1407]], [null, null]]],
    ['cifar10', 'preactresnet152', [[[4.20], [0.1994]], [[3.15], [0.2312]], [[2.76], [0.1419]], [[2.38], [0.0957]]]],
    ['cifar100', 'preactresnet18', [[[24.68], [1.284]], [null, null], [[21.05], [0.913]], [null, null]]],
    ['cifar100', 'preactresnet34', [[null, null], [[22.79], [1.085]], [[20.39], [0.930]], [null, null]]],
  ];
  const cells = (which: 0 | 1) =>
    rows.flatMap(([ds, arch, figs]) => {
      const keys = [noMixup(ds, arch), inputMixup(ds, arch, 1), manifoldMixup(ds, arch, 2), manifoldMixup(ds, arch, 6, [0, 1, 2, 3])];
      return keys.flatMap((k, m) => (figs[m][which] ? [cell(`${datasetLabel(ds)} ${archLabel(arch)}`, cols[m], k, figs[m][which])] : []));
    });
  return {
    id: 'v3-table1', title: 'v3 Table 1: CIFAR-10 and CIFAR-100, single runs',
    source: { version: 'v3', table: 'Table 1', runs: 1 },
    notes: ['"All layers" is taken as S = {0,1,2,3}: the exact set is not recoverable from the paper.'],
    panels: [panel('test error %', 'error', 'model', cells(0)), panel('test NLL', 'nll', 'model', cells(1))],
    schedule: { preactresnet18: { epochs: 1200, milestones: [400, 800] }, preactresnet34: { epochs: 1200, milestones: [400, 800] } },
  };
}

function table3(): PaperTable {
  const ds = 'tiny-imagenet';
  const arch = 'preactresnet18';
  const alphas = [0.2, 0.5, 1, 2];
  const rows: [string, RunKey, Fig, Fig][] = [
    ['No Mixup', noMixup(ds, arch), [55.52], [71.04]],
    ...([[56.47, 71.74], [55.49, 71.62], [52.65, 70.70], [44.18, 68.26]] as const).map(
      ([t1, t5], i): [string, RunKey, Fig, Fig] => [`Input Mixup α=${alphas[i]}`, inputMixup(ds, arch, alphas[i]), [t1], [t5]],
    ),
    ...([[58.70, 73.59], [57.24, 73.48], [56.83, 73.75], [48.14, 71.69]] as const).map(
      ([t1, t5], i): [string, RunKey, Fig, Fig] => [`Manifold Mixup α=${alphas[i]}`, manifoldMixup(ds, arch, alphas[i]), [t1], [t5]],
    ),
  ];
  return {
    id: 'table3', title: 'Table 3: Tiny-ImageNet, PreActResNet18',
    source: { version: 'v7', table: 'Table 3' },
    notes: ['Top-5 accuracy is not recorded by runs yet: its "ours" cells stay empty.'],
    panels: [
      panel('test accuracy %', 'accuracy', 'model', rows.flatMap(([r, k, t1, t5]) => [
        cell(r, 'top-1', k, t1),
        cell(r, 'top-5', k, t5, { metric: 'top5' }),
      ])),
    ],
    schedule: ABLATION_SCHEDULE,
  };
}

function table5(): PaperTable {
  const arch = 'preactresnet18';
  const sets: [number[], number, number][] = [
    [[0, 1, 2], 97.23, 79.60], [[0, 1], 96.94, 78.93], [[0, 1, 2, 3], 96.92, 80.18], [[1, 2], 96.35, 78.69],
    [[0], 96.73, 78.15], [[1, 2, 3], 96.51, 79.31], [[1], 96.10, 78.72], [[2, 3], 95.32, 76.46],
    [[2], 95.19, 76.50], [[], 95.27, 76.40],
  ];
  const cells = sets.flatMap(([s, c10, c100]) => [
    cell(layersLabel(s), 'CIFAR-10', manifoldMixup('cifar10', arch, 2, s), [c10]),
    cell(layersLabel(s), 'CIFAR-100', manifoldMixup('cifar100', arch, 2, s), [c100]),
  ]);
  return {
    id: 'table5', title: 'Table 5: eligible layers S, PreActResNet18, α=2',
    source: { version: 'v7', table: 'Table 5' },
    notes: ['S = {0} is Input Mixup α=2 and S = {} is No Mixup: those rows match input and no-mixup runs.'],
    panels: [panel('test accuracy %', 'accuracy', 'eligible layers S', cells)],
    schedule: ABLATION_SCHEDULE,
  };
}

function table6(): PaperTable {
  const arch = 'preactresnet18';
  const rows: [number, number, number][] = [[0.5, 96.68, 96.76], [1.0, 96.75, 97.00], [1.2, 96.72, 97.03], [1.5, 96.84, 97.10], [1.8, 96.80, 97.15], [2.0, 96.73, 97.23]];
  const cells = rows.flatMap(([a, inp, man]) => [
    cell(`α=${a}`, 'Input Mixup', inputMixup('cifar10', arch, a), [inp]),
    cell(`α=${a}`, 'Manifold Mixup', manifoldMixup('cifar10', arch, a), [man]),
  ]);
  return {
    id: 'table6', title: 'Table 6: α sweep, CIFAR-10, PreActResNet18',
    source: { version: 'v7', table: 'Table 6' }, notes: [],
    panels: [panel('test accuracy %', 'accuracy', 'α', cells)],
    schedule: ABLATION_SCHEDULE,
  };
}

function fgsm(): PaperTable {
  const pgd = 'PGD-7 adversarial training';
  const rows: [PaperDataset, PaperArch, Fig[]][] = [
    ['cifar10', 'preactresnet18', [[36.32], [71.51], [77.50], [56.10]]],
    ['cifar100', 'preactresnet18', [null, [40.7], [44.96], null]],
    ['svhn', 'wrn28_10', [[21.49], [56.98], [65.91], [72.80]]],
  ];
  const cells = rows.flatMap(([ds, arch, figs]) => {
    const keys = [noMixup(ds, arch), inputMixup(ds, arch, 1), manifoldMixup(ds, arch, 2), { ...noMixup(ds, arch), variant: pgd }];
    const cols = [...MODE_COLS, `${pgd} (quoted)`];
    return keys.map((k, m) => cell(`${datasetLabel(ds)} (${archLabel(arch)})`, cols[m], k, figs[m]));
  });
  return {
    id: 'fgsm', title: 'FGSM: white-box one-step attack',
    source: { version: 'v7', table: 'Table 7', note: 'same figures as v3 Table 3' },
    notes: [
      'The paper does not state ε or the pixel scale; each attack setting found in adversarial.json gets its own panel.',
      'The PGD-7 column is quoted by the paper from other work; no run matches it.',
    ],
    panels: [panel('FGSM accuracy %', 'accuracy', 'dataset (model)', cells, { kind: 'fgsm' })],
    schedule: { preactresnet18: MAIN_SCHEDULE.preactresnet18, wrn28_10: MAIN_SCHEDULE.wrn28_10 },
  };
}

function deformations(): PaperTable {
  const ds = 'cifar100';
  const arch = 'preactresnet34';
  const keys = [noMixup(ds, arch), inputMixup(ds, arch, 1), inputMixup(ds, arch, 2), manifoldMixup(ds, arch, 2)];
  const cols = ['No Mixup', 'Input Mixup α=1', 'Input Mixup α=2', 'Manifold Mixup α=2'];
  const rows: [string, number[]][] = [
    ['rotation U(−20°,20°)', [52.96, 55.55, 56.48, 60.08]],
    ['rotation U(−40°,40°)', [33.82, 37.73, 36.78, 42.13]],
    ['shear U(−28.6°,28.6°)', [55.92, 58.16, 60.01, 62.85]],
    ['shear U(−57.3°,57.3°)', [35.66, 39.34, 39.7, 44.27]],
    ['zoom-in 60%', [12.68, 13.75, 13.12, 11.49]],
    ['zoom-in 80%', [47.95, 52.18, 50.47, 52.70]],
    ['zoom-out 120%', [43.18, 60.02, 61.62, 63.59]],
    ['zoom-out 140%', [19.34, 41.81, 42.02, 45.29]],
  ];
  return {
    id: 'deformations', title: 'Novel deformations: PreActResNet34 trained on CIFAR-100, tested on deformed images',
    source: { version: 'unstated', table: 'novel deformations' },
    notes: ['Runs do not record deformed-test accuracy yet: the "ours" cells stay empty.'],
    panels: [
      panel('test accuracy % on deformed test images', 'accuracy', 'deformation',
        rows.flatMap(([name, figs]) => keys.map((k, m) => cell(name, cols[m], k, [figs[m]], { condition: { kind: 'deformation', name } }))),
        { kind: 'deformation', name: 'novel deformations' }),
    ],
    schedule: { preactresnet34: MAIN_SCHEDULE.preactresnet34 },
  };
}

function regularizers(): PaperTable {
  const ds = 'cifar10';
  const arch = 'preactresnet50';
  const rows: [string, RunKey, Fig][] = [
    ['none', noMixup(ds, arch), [4.96, 0.19]],
    ['dropout', { ...noMixup(ds, arch), variant: 'dropout' }, [5.09, 0.09]],
    ['cutout', { ...noMixup(ds, arch), variant: 'cutout' }, [4.77, 0.38]],
    ['Input Mixup', inputMixup(ds, arch, 1), [4.25, 0.11]],
    ['Manifold Mixup', manifoldMixup(ds, arch, 2), [3.77, 0.18]],
  ];
  return {
    id: 'regularizers', title: 'Other regularizers: PreActResNet50, CIFAR-10, 600 epochs',
    source: { version: 'unstated', table: 'other regularizers' },
    notes: ['α is not stated: the mixup rows compare with α=1 (input) and α=2 (manifold).', 'Dropout and cutout are not implemented; no run matches them.'],
    panels: [panel('test error %', 'error', 'regularizer', rows.map(([r, k, f]) => cell(r, 'test error %', k, f)))],
    schedule: { preactresnet50: { epochs: 600, milestones: null } },
  };
}

function semiSupervised(): PaperTable {
  const arch = 'wrn28_2';
  const cols: [PaperDataset, string][] = [['cifar10', 'CIFAR-10, 4,000 labels'], ['svhn', 'SVHN, 1,000 labels']];
  const rows: [string, (ds: string) => RunKey, Fig[]][] = [
    ['supervised only', (ds) => ({ ...noMixup(ds, arch), variant: 'supervised, few labels' }), [[20.26, 0.38], [12.83, 0.47]]],
    ['semi-supervised Input Mixup', (ds) => ({ ...inputMixup(ds, arch, 0.1), variant: 'semi-supervised' }), [[10.71, 0.44], [6.54, 0.62]]],
    ['semi-supervised Manifold Mixup', (ds) => ({ ...manifoldMixup(ds, arch, 0.1), variant: 'semi-supervised' }), [[10.26, 0.32], [5.70, 0.48]]],
  ];
  return {
    id: 'semi-supervised', title: 'v3 Table 2: semi-supervised, WRN-28-2',
    source: { version: 'v3', table: 'Table 2', runs: 5 },
    notes: ['Semi-supervised training is not implemented; no run matches these rows.'],
    panels: [panel('test error %', 'error', 'method', rows.flatMap(([r, key, figs]) => cols.map(([ds, c], i) => cell(r, c, key(ds), figs[i]))))],
    schedule: { wrn28_2: { epochs: 1000, milestones: [500, 750, 875] } },
  };
}

export const PAPER_TABLES: Record<TableId, PaperTable> = {
  table1a: TABLE1A,
  table1b: TABLE1B,
  table2: TABLE2,
  table3: table3(),
  table5: table5(),
  table6: table6(),
  fgsm: fgsm(),
  deformations: deformations(),
  regularizers: regularizers(),
  'v3-table1': v3Table1(),
  'semi-supervised': semiSupervised(),
};

export function isTableId(s: string): s is TableId {
  return (TABLE_IDS as readonly string[]).includes(s);
}

/** Every published figure, flat, with its source. */
export function paperFigures(): PaperFigure[] {
  return TABLE_IDS.flatMap((id) => {
    const t = PAPER_TABLES[id];
    return t.panels.flatMap((p) =>
      p.cells.flatMap((c) => (c.paper ? [{ table: id, source: t.source, key: c.key, metric: cellMetric(p, c), condition: cellCondition(p, c), ...c.paper }] : [])),
    );
  });
}

/**
 * The distinct run keys a table needs, in table order: what a reproduce command expands into
 * (config × seed). Variant rows (dropout, semi-supervised, quoted figures) are left out: the
 * supervised runner cannot produce them.
 */
export function tableRunKeys(id: TableId): RunKey[] {
  const seen = new Map<string, RunKey>();
  for (const p of PAPER_TABLES[id].panels) {
    for (const c of p.cells) if (c.key.variant === undefined && !seen.has(keyId(c.key))) seen.set(keyId(c.key), c.key);
  }
  return [...seen.values()];
}
