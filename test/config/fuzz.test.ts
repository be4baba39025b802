/** Property test: whatever YAML arrives, the loader returns a config or a ConfigError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as YAML from 'yaml';
import { parseConfig, parseOverride } from '../../src/config/load.js';
import { ConfigError } from '../../src/runtime/errors.js';
import { Rng } from '../../src/runtime/rng.js';

const KEYS = ['name', 'seed', 'backend', 'dataset', 'model', 'mixup', 'train', 'eval', 'arch', 'width', 'mode', 'alpha', 'layers',
  'epochs', 'lr', 'milestones', 'augment', 'crop_padding', 'flip', 'mean', 'std', 'batch_size', 'micro_batch', 'bogus', '', '<<'];
const SCALARS = [0, -1, 1, 2.5, 1e308, -0, NaN, Infinity, true, false, null, '', 'manifold', 'fashion-mnist-subset', 'auto', '8/255', '0x10', '~'];

function randomValue(r: Rng, depth: number): unknown {
  const kind = r.int(depth > 3 ? 2 : 4);
  if (kind === 0) return SCALARS[r.int(SCALARS.length)];
  if (kind === 1) return r.uniform() < 0.5 ? r.int(5000) - 100 : String.fromCharCode(...Array.from({ length: r.int(6) }, () => 32 + r.int(95)));
  if (kind === 2) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
  return Object.fromEntries(Array.from({ length: r.int(5) }, () => [KEYS[r.int(KEYS.length)], randomValue(r, depth + 1)]));
}

function mutate(text: string, r: Rng): string {
  const chars = [...text];
  for (let k = r.int(4); k > 0; k--) {
    const i = r.int(chars.length + 1);
    const op = r.int(3);
    if (op === 0) chars.splice(i, 1);
    else if (op === 1) chars.splice(i, 0, ':-[]{}\n\t &*!|>#"\''[r.int(17)]);
    else chars.splice(i, 0, ...chars.slice(r.int(chars.length + 1), r.int(chars.length + 1)));
  }
  return chars.join('');
}

test('2,000 random and mutated YAML documents: a config or a ConfigError, never anything else', () => {
  const r = new Rng(1806, 'fuzz');
  const seed = 'dataset: {name: fashion-mnist-subset}\nmixup: {mode: manifold, layers: [0, 1]}\ntrain: {epochs: 2, milestones: [1]}\n';
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const doc = i % 3 === 0 ? mutate(seed, r) : i % 3 === 1 ? YAML.stringify(randomValue(r, 0)) : mutate(YAML.stringify(randomValue(r, 0)), r);
    try {
      const { config } = parseConfig(doc, 'fuzz.yaml');
      accepted++;
      assert.ok(config.train.epochs >= 1 && config.model.width >= 1);
    } catch (e) {
      assert.ok(e instanceof ConfigError, `document ${i} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${doc}`);
      assert.ok(e.issues.length > 0 && e.issues.every((x) => typeof x.message === 'string' && x.message.length > 0));
    }
  }
  assert.ok(accepted > 0, 'some documents should be valid');
  // Overrides too.
  for (let i = 0; i < 300; i++) {
    const text = mutate('train.lr=0.05', r);
    try {
      parseConfig(seed, 'fuzz.yaml', [parseOverride(text)]);
    } catch (e) {
      assert.ok(e instanceof ConfigError, `override ${JSON.stringify(text)} threw ${(e as Error)?.message}`);
    }
  }
});
