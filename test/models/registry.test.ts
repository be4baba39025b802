/** The architecture registry: reference parameter counts, shape-only sizing, names, mixing layers. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { ARCHS, PAPER_WIDTH } from '../../src/config/schema.js';
import { ConfigError } from '../../src/runtime/errors.js';
import { ARCH_INFO, createModel, describeModel, MODEL_NAMES } from '../../src/models/registry.js';
import { mixHidden } from '../../src/mixup/mix.js';
import { randomArray, tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

const cifar = (arch: string, classes: number, width = ARCH_INFO[arch as keyof typeof ARCH_INFO].paperWidth) => ({
  inputShape: [32, 32, 3] as [number, number, number],
  classes,
  width,
  finalBn: false,
});

test('every architecture has the reference parameter count at full width (SPEC §2)', () => {
  const want: [string, number, number][] = [
    ['preactresnet18', 10, 11_171_146],
    ['preactresnet18', 100, 11_217_316],
    ['preactresnet34', 10, 21_279_306],
    ['preactresnet50', 10, 23_509_066],
    ['preactresnet101', 10, 42_501_194],
    ['preactresnet152', 10, 58_144_842],
    ['wrn28_10', 10, 36_489_290],
    ['wrn28_10', 100, 36_546_980],
    ['wrn28_2', 10, 1_469_642],
  ];
  const before = tf.memory().numTensors;
  for (const [arch, classes, params] of want) assert.equal(describeModel(arch, cifar(arch, classes)).params, params, `${arch}, ${classes} classes`);
  assert.equal(tf.memory().numTensors, before, 'sizing allocates nothing that stays');
  assert.deepEqual(new Set(want.map(([a]) => a)), new Set(MODEL_NAMES), 'a reference count for every registry entry');
});

test('shape-only sizing equals a real model: same names, shapes, order and count', () => {
  for (const arch of MODEL_NAMES) {
    for (const finalBn of ARCH_INFO[arch].finalBnOption ? [false, true] : [false]) {
      const opts = { ...cifar(arch, 7, arch.startsWith('wrn') ? 2 : 4), finalBn };
      const dry = describeModel(arch, opts);
      const m = createModel(arch, opts, 0);
      try {
        const real = [...m.params.trainable, ...m.params.buffers];
        assert.equal(dry.specs.length, real.length, arch);
        const byName = new Map(real);
        for (const s of dry.specs) {
          const v = byName.get(s.name);
          assert.ok(v, `${arch}: ${s.name}`);
          // Our layout: conv [kh, kw, in, out], dense [in, out]; the spec is PyTorch's.
          const t = s.torchShape;
          const ours = t.length === 4 ? [t[2], t[3], t[1], t[0]] : t.length === 2 ? [t[1], t[0]] : t;
          assert.deepEqual(v.shape, ours, `${arch}: ${s.name}`);
          assert.equal(s.trainable, m.params.trainable.has(s.name));
        }
        assert.deepEqual(dry.specs.filter((s) => s.trainable).map((s) => s.name), [...m.params.trainable.keys()], `${arch}: registration order`);
        let count = 0;
        for (const v of m.params.trainable.values()) count += v.size;
        assert.equal(dry.params, count, arch);
        assert.equal(m.params.countTrainable(), count, arch);
        assert.equal(dry.activationsPerExample, m.activationsPerExample);
      } finally {
        m.params.dispose();
      }
    }
  }
});

test('the config schema offers exactly the registry, with each one paper width', () => {
  assert.deepEqual([...ARCHS].sort(), [...MODEL_NAMES].sort());
  for (const a of MODEL_NAMES) assert.equal(PAPER_WIDTH[a], ARCH_INFO[a].paperWidth, a);
  const width = (model: string) => parseConfig(`dataset: {name: fashion-mnist-subset}\ntrain: {epochs: 1}\nmodel: ${model}\n`, 'c.yaml').config.model.width;
  assert.equal(width('{arch: wrn28_10}'), 16);
  assert.equal(width('{arch: preactresnet152}'), 64);
  assert.equal(width('{arch: wrn28_2, width: null}'), 16);
  assert.equal(width('{arch: wrn28_2, width: 4}'), 4);
  assert.throws(() => width('{arch: wrn28_2, final_bn: true}'), (e: Error) => e instanceof ConfigError && /model\.final_bn: wrn28_2 always ends/.test(e.message));
});

test('module names follow the reference code: bottleneck blocks and the official WRN', () => {
  const p50 = describeModel('preactresnet50', cifar('preactresnet50', 10, 4)).specs.map((s) => s.name);
  assert.deepEqual(p50.slice(0, 16), [
    'conv1.weight',
    'layer1.0.bn1.weight', 'layer1.0.bn1.bias', 'layer1.0.bn1.running_mean', 'layer1.0.bn1.running_var', 'layer1.0.conv1.weight',
    'layer1.0.bn2.weight', 'layer1.0.bn2.bias', 'layer1.0.bn2.running_mean', 'layer1.0.bn2.running_var', 'layer1.0.conv2.weight',
    'layer1.0.bn3.weight', 'layer1.0.bn3.bias', 'layer1.0.bn3.running_mean', 'layer1.0.bn3.running_var', 'layer1.0.conv3.weight',
  ]);
  // Expansion 4: layer1.0 projects 4 → 16 channels; layer1.1 is an identity block.
  assert.ok(p50.includes('layer1.0.shortcut.0.weight') && !p50.includes('layer1.1.shortcut.0.weight'));
  assert.ok(p50.includes('layer4.2.conv3.weight') && !p50.includes('layer4.3.bn1.weight'));
  const wrn = describeModel('wrn28_10', cifar('wrn28_10', 10));
  const names = wrn.specs.map((s) => s.name);
  assert.deepEqual(names.slice(0, 4), ['conv1.weight', 'conv1.bias', 'layer1.0.bn1.weight', 'layer1.0.bn1.bias']);
  assert.deepEqual(names.slice(-8), ['layer3.3.conv2.weight', 'layer3.3.conv2.bias', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'linear.weight', 'linear.bias']);
  const shape = (n: string) => wrn.specs.find((s) => s.name === n)!.torchShape;
  assert.deepEqual(shape('layer1.0.shortcut.0.weight'), [160, 16, 1, 1]);
  assert.deepEqual(shape('layer2.0.conv1.weight'), [320, 160, 3, 3]);
  assert.deepEqual(shape('layer3.3.conv2.bias'), [640]);
  assert.deepEqual(shape('linear.weight'), [10, 640]);
  assert.ok(!names.includes('layer1.1.shortcut.0.weight'));
  assert.throws(() => describeModel('wrn28_2', { ...cifar('wrn28_2', 10), finalBn: true }), /head/);
});

test('activation sizes: PreActResNet18 keeps its calibrated figure; a 64×64 input costs the same after the stride-2 stem', () => {
  // 64·32² (stem) + 2·64·32² + 2·128·16² + 2·256·8² + 2·512·4²: what memory.ts was measured against.
  assert.equal(describeModel('preactresnet18', cifar('preactresnet18', 10)).activationsPerExample, 311_296);
  for (const arch of MODEL_NAMES) {
    const at32 = describeModel(arch, cifar(arch, 10));
    const at64 = describeModel(arch, { ...cifar(arch, 10), inputShape: [64, 64, 3] });
    assert.equal(at64.activationsPerExample, at32.activationsPerExample, arch);
    assert.equal(at64.params, at32.params, arch);
  }
});

test('every architecture runs and mixes at each of its stage boundaries', () => {
  for (const arch of MODEL_NAMES) {
    const m = createModel(arch, { inputShape: [8, 8, 1], classes: 3, width: arch.startsWith('wrn') ? 1 : 2, finalBn: false }, 2);
    try {
      assert.deepEqual(m.mixLayers, [0, 1, 2, 3], arch);
      const x = tf.tensor4d(randomArray(4 * 64, 5), [4, 8, 8, 1]);
      const plain = m.forward(x, { training: false });
      assert.deepEqual(plain.shape, [4, 3]);
      for (const layer of m.mixLayers) {
        let seen: number[] | undefined;
        const s = { layer, lambda: 0.4, perm: Int32Array.from([3, 2, 1, 0]) };
        const mixed = m.forward(x, { training: false }, { layer, apply: (h) => ((seen = h.shape), mixHidden(h, s)) });
        assert.ok(seen, `${arch}: layer ${layer} reached`);
        assert.equal(seen![0], 4);
        // Mixing changes the logits (λ ≠ 1 and π is not the identity).
        assert.ok(tf.max(tf.abs(tf.sub(mixed, plain))).dataSync()[0] > 1e-6, `${arch}: layer ${layer}`);
        mixed.dispose();
      }
      tf.dispose([x, plain]);
    } finally {
      m.params.dispose();
    }
  }
});
