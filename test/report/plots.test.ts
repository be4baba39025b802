/** Learning-curve SVG: well-formed, one line per series per panel, labelled axes, bands from seeds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupRuns } from '../../src/report/aggregate.js';
import { groupSeries, learningCurves, niceTicks } from '../../src/report/plots.js';
import { loadRuns } from '../../src/report/runs.js';
import { writeFakeRun } from './fake-runs.js';

/** Checks that tags nest and close (an XML well-formedness check without a parser dependency); returns the elements. */
function parseTags(svg: string): { name: string; attrs: string }[] {
  const stack: string[] = [];
  const elements: { name: string; attrs: string }[] = [];
  const text = svg.replace(/<\?xml[^>]*\?>/, '');
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, attrs, self] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else {
      elements.push({ name, attrs });
      if (!self) stack.push(name);
    }
    assert.doesNotMatch(attrs, /[<&](?!amp;|lt;|gt;|quot;)/, 'unescaped markup in attributes');
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(text.replace(/<[^>]*>/g, '').match(/[<>]/), null, 'stray angle brackets in text');
  return elements;
}

function runs() {
  const root = mkdtempSync(join(tmpdir(), 'report-plot-'));
  const common = { dataset: 'cifar10', width: 8, epochs: 3 };
  writeFakeRun(root, 'none0', { ...common, seed: 0, curve: [[2, 0.8, 2], [1.5, 0.6, 1.5], [1, 0.5, 1.2]] });
  writeFakeRun(root, 'none1', { ...common, seed: 1, curve: [[2.2, 0.9, 2.1], [1.3, 0.5, 1.4], [1.2, 0.4, 1.0]] });
  writeFakeRun(root, 'in0', { ...common, mode: 'input', seed: 0, curve: [[2, 0.7, 1.9], [1.6, 0.55, 1.3], [1.4, 0.45, 1.1]] });
  writeFakeRun(root, 'man<&>', { ...common, mode: 'manifold', seed: 0, curve: [[2, 0.7, 1.9], [1.6, 0.55, 1.3], [1.4, 0.35, 0.9]] });
  // Another recipe: its own figure.
  writeFakeRun(root, 'long', { ...common, epochs: 4, seed: 0, curve: [[2, 0.8, 2], [1.5, 0.6, 1.5], [1, 0.5, 1.2], [0.9, 0.45, 1.1]] });
  return groupRuns(loadRuns([root]).runs).groups;
}

test('mean and min–max band over seeds per epoch', () => {
  const none = runs().find((g) => g.key.mode === 'none' && g.recipe.epochs === 3)!;
  const s = groupSeries(none, (p) => 100 * p.test_err);
  assert.equal(s.label, 'No Mixup (n=2)');
  assert.deepEqual(s.points.map((p) => p.x), [1, 2, 3]);
  assert.ok(Math.abs(s.points[0].mean - 85) < 1e-9 && s.points[0].min === 80 && s.points[0].max === 90);
});

test('one SVG per (dataset, arch, recipe): well-formed, a line per series in each panel, axes labelled', () => {
  const figs = learningCurves(runs());
  assert.equal(figs.length, 2);
  assert.equal(new Set(figs.map((f) => f.file)).size, 2);
  const fig = figs.find((f) => /3 epochs/.test(f.svg))!;
  assert.match(fig.file, /^curves-cifar10-preactresnet18-[0-9a-f]{8}\.svg$/);
  assert.match(fig.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const els = parseTags(fig.svg);
  const series = els.filter((e) => e.name === 'path' && /class="series"/.test(e.attrs));
  assert.equal(series.length, 3 * 3, '3 series × 3 panels');
  // Each series line visits every epoch: M + 2 × L.
  for (const s of series) assert.equal((/ d="([^"]*)"/.exec(s.attrs)![1].match(/[ML]/g) ?? []).length, 3);
  assert.equal(els.filter((e) => e.name === 'path' && /class="band"/.test(e.attrs)).length, 3, 'a band only where seeds differ (the 2-seed group)');
  assert.equal(els.filter((e) => e.name === 'g' && /class="panel"/.test(e.attrs)).length, 3);
  const texts = [...fig.svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.equal(texts.filter((t) => t === 'epoch').length, 3, 'x axis labelled in each panel');
  for (const label of ['train loss', 'test error %', 'test NLL']) assert.ok(texts.filter((t) => t === label).length >= 2, `${label}: panel title and y axis label`);
  assert.ok(texts.includes('No Mixup (n=2)') && texts.includes('Input Mixup α=1 (n=1)') && texts.includes('Manifold Mixup α=2 S={0,1,2} (n=1)'));
});

test('nice ticks cover the range in steps of 1, 2 or 5 × 10^k', () => {
  assert.deepEqual(niceTicks(0.31, 0.33), [0.31, 0.315, 0.32, 0.325, 0.33]);
  assert.deepEqual(niceTicks(1, 2, 6, true), [1, 2]);
  assert.deepEqual(niceTicks(1, 1200, 6, true), [0, 500, 1000, 1500]);
  assert.deepEqual(niceTicks(85.5, 89.5), [85, 86, 87, 88, 89, 90]);
  const flat = niceTicks(5, 5);
  assert.ok(flat[0] < 5 && flat[flat.length - 1] > 5);
});
