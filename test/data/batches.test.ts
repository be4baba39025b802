import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochBatches, makeBatch, type Transform } from '../../src/data/batches.js';
import { Rng } from '../../src/runtime/rng.js';

// One 3×3 single-channel image with pixels 0..8 (scaled ×10 so they are distinct bytes).
const split = { images: Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80]), labels: Uint8Array.from([4]), n: 1 };
const plain: Transform = { shape: [3, 3, 1], mean: [0], std: [1 / 255], cropPadding: 0, flip: false };

test('normalization is (pixel/255 − mean)/std per channel', () => {
  const t: Transform = { ...plain, mean: [0.5], std: [0.25] };
  const b = makeBatch(split, [0], t, null);
  assert.ok(Math.abs(b.x[1] - (10 / 255 - 0.5) / 0.25) < 1e-6);
  assert.deepEqual([...b.y], [4]);
});

test('random crops are zero-padded shifts within ±padding, matching one of the hand-made crops', () => {
  const t: Transform = { ...plain, cropPadding: 1 };
  const rng = new Rng(0, 'augment');
  const img = (dy: number, dx: number) =>
    Array.from({ length: 9 }, (_, k) => {
      const i = Math.floor(k / 3) + dy;
      const j = (k % 3) + dx;
      return i >= 0 && i < 3 && j >= 0 && j < 3 ? split.images[i * 3 + j] : 0;
    });
  const candidates = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => JSON.stringify(img(dy, dx))));
  const seen = new Set<string>();
  for (let k = 0; k < 200; k++) {
    const got = JSON.stringify([...makeBatch(split, [0], t, rng).x].map((v) => Math.round(v)));
    assert.ok(candidates.includes(got), `unexpected crop ${got}`);
    seen.add(got);
  }
  assert.equal(seen.size, 9, 'every offset occurs');
});

test('horizontal flip mirrors each row, about half the time', () => {
  const t: Transform = { ...plain, flip: true };
  const rng = new Rng(1, 'augment');
  let flips = 0;
  for (let k = 0; k < 400; k++) {
    const x = [...makeBatch(split, [0], t, rng).x].map((v) => Math.round(v));
    if (x[0] === 20) {
      assert.deepEqual(x, [20, 10, 0, 50, 40, 30, 80, 70, 60]);
      flips++;
    } else assert.deepEqual(x, [0, 10, 20, 30, 40, 50, 60, 70, 80]);
  }
  assert.ok(flips > 160 && flips < 240, `${flips} flips of 400`);
});

test('epoch batches cover every index once, the last batch may be short, and order is seeded', () => {
  const a = epochBatches(10, 4, new Rng(3, 'order'));
  assert.deepEqual(a.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(a.flatMap((b) => [...b]).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const b = epochBatches(10, 4, new Rng(3, 'order'));
  assert.deepEqual(a.map((x) => [...x]), b.map((x) => [...x]));
  assert.deepEqual([...epochBatches(3, 5, null)[0]], [0, 1, 2]);
});
