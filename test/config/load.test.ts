import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, loadConfig, parseConfig, parseOverride } from '../../src/config/load.js';
import { ConfigError } from '../../src/runtime/errors.js';

const base = `dataset:
  name: fashion-mnist-subset
mixup:
  mode: manifold
train:
  epochs: 2
`;

function issuesOf(text: string, overrides: string[] = []) {
  try {
    parseConfig(text, 'exp.yaml', overrides.map(parseOverride));
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.exitCode, 2);
    return e.issues;
  }
  assert.fail('config was accepted');
}

test('defaults are filled: SPEC recipe, α by mode, layers {0,1,2}', () => {
  const { config } = parseConfig(base, 'exp.yaml');
  assert.deepEqual(config.mixup, { mode: 'manifold', alpha: 2, layers: [0, 1, 2], per_example: false });
  assert.equal(config.train.lr, 0.1);
  assert.equal(config.train.momentum, 0.9);
  assert.equal(config.train.nesterov, true);
  assert.equal(config.train.weight_decay, 1e-4);
  assert.equal(config.train.batch_size, 100);
  assert.equal(config.train.loss, 'bce');
  assert.equal(config.dataset.augment.crop_padding, 2);
  assert.deepEqual(config.dataset.mean, [0.286]);
  assert.equal(config.model.width, 64);
  assert.equal(config.model.final_bn, false);
  assert.equal(config.name, 'exp');
  const input = parseConfig(base.replace('manifold', 'input'), 'x.yaml').config.mixup;
  assert.deepEqual(input, { mode: 'input', alpha: 1, layers: [0], per_example: false });
  assert.deepEqual(parseConfig(base.replace('manifold', 'none'), 'x.yaml').config.mixup, { mode: 'none', alpha: null, layers: [], per_example: false });
});

test('an unknown key is named with its line and column and the allowed keys', () => {
  const [issue] = issuesOf(base.replace('  mode: manifold', '  mode: manifold\n  alpah: 2'));
  assert.equal(issue.path, 'mixup.alpah');
  assert.equal(issue.line, 5);
  assert.equal(issue.col, 3);
  assert.match(issue.message, /unknown key.*alpha, layers/);
});

test('a wrong type names the key and what is allowed', () => {
  const [issue] = issuesOf(base.replace('epochs: 2', 'epochs: two'));
  assert.equal(issue.path, 'train.epochs');
  assert.equal(issue.line, 6);
  assert.match(issue.message, /number/);
});

test('α ≤ 0 for a mixing mode is refused; α with mode none too', () => {
  const [issue] = issuesOf(base.replace('  mode: manifold', '  mode: manifold\n  alpha: 0'));
  assert.equal(issue.path, 'mixup.alpha');
  assert.equal(issue.line, 5);
  assert.match(issue.message, /> 0/);
  assert.equal(issuesOf(base.replace('  mode: manifold', '  mode: none\n  alpha: 1'))[0].path, 'mixup.alpha');
});

test('bad layer indices are named by position', () => {
  const issues = issuesOf(base.replace('  mode: manifold', '  mode: manifold\n  layers: [0, 4]'));
  assert.equal(issues[0].path, 'mixup.layers[1]');
  assert.equal(issues[0].line, 5);
  assert.match(issues[0].message, /≤ 3/);
  assert.match(issuesOf(base.replace('  mode: manifold', '  mode: manifold\n  layers: [1, 1]'))[0].message, /twice/);
  assert.match(issuesOf(base.replace('  mode: manifold', '  mode: input\n  layers: [1]'))[0].message, /layer 0 only/);
});

test('every problem is reported at once', () => {
  const issues = issuesOf(`dataset:\n  name: cifar11\nmodel:\n  width: 0\n  depth: 3\ntrain:\n  lr: -1\n`);
  const paths = issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['dataset.name', 'model.depth', 'model.width', 'train.epochs', 'train.lr']);
  const err = new ConfigError('exp.yaml', issues);
  assert.match(err.message, /exp\.yaml:2:9: dataset\.name: must be one of "fashion-mnist", "fashion-mnist-subset"/);
});

test('YAML syntax errors carry line and column', () => {
  const [issue] = issuesOf('dataset:\n  name: [fashion\n');
  assert.equal(issue.line, 3);
  assert.match(issue.message, /YAML/);
  assert.match(issuesOf('- a\n- b\n')[0].message, /mapping/);
});

test('--set values are YAML scalars, validated like the file, and named in errors', () => {
  const { config } = parseConfig(base, 'exp.yaml', ['train.lr=0.05', 'mixup.layers=[2, 0]', 'model.final_bn=true'].map(parseOverride));
  assert.equal(config.train.lr, 0.05);
  assert.deepEqual(config.mixup.layers, [0, 2]);
  assert.equal(config.model.final_bn, true);
  const [issue] = issuesOf(base, ['train.lr=fast']);
  assert.equal(issue.path, 'train.lr');
  assert.match(issue.message, /--set train\.lr=fast/);
  assert.throws(() => parseOverride('train.lr'), ConfigError);
});

test('a missing config file is a ConfigError naming it', () => {
  assert.throws(() => loadConfig('/nonexistent/x.yaml'), (e: Error) => e instanceof ConfigError && /x\.yaml.*no such file/.test(e.message));
});

test('the config hash ignores key order and changes with any value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'a.yaml'), base);
  writeFileSync(join(dir, 'b.yaml'), `train:\n  epochs: 2\nmixup:\n  mode: manifold\ndataset:\n  name: fashion-mnist-subset\n`);
  const a = loadConfig(join(dir, 'a.yaml'));
  const b = loadConfig(join(dir, 'b.yaml'));
  assert.notEqual(a.config.name, b.config.name);
  assert.equal(configHash({ ...a.config, name: 'x' }), configHash({ ...b.config, name: 'x' }));
  assert.notEqual(configHash(a.config), configHash({ ...a.config, seed: 1 }));
});

test('a resolved config (config.yaml) loads again to the same config, in every mode', async () => {
  const { configToYaml } = await import('../../src/config/load.js');
  for (const mode of ['none', 'input', 'manifold']) {
    const first = parseConfig(base.replace('manifold', mode), 'exp.yaml');
    const again = parseConfig(configToYaml(first.config), 'config.yaml');
    assert.deepEqual(again.config, first.config);
    assert.equal(again.hash, first.hash);
  }
});
