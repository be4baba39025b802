import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cappedTrainSize, DATASETS, SVHN_EXTRA_SIZE, SVHN_OFFICIAL_PER_CLASS_CAP } from '../../src/data/catalog.js';

test('per-class counts, where listed, add up to the training split', () => {
  for (const [name, info] of Object.entries(DATASETS)) {
    if (!('trainPerClass' in info)) continue;
    const counts = info.trainPerClass as number[];
    assert.equal(counts.length, info.classes, name);
    assert.equal(counts.reduce((a, b) => a + b, 0), info.sizes.train, name);
  }
});

test('the training size after a per-class cap, by hand', () => {
  // SVHN digits 1–4 have more than 7,325 images: 4 × 7,325 + 6,882 + 5,727 + 5,595 + 5,045 + 4,659 + 4,948.
  assert.equal(cappedTrainSize(DATASETS.svhn, SVHN_OFFICIAL_PER_CLASS_CAP), 29300 + 32856);
  assert.equal(cappedTrainSize(DATASETS.svhn, null), 73257);
  assert.equal(cappedTrainSize(DATASETS.svhn, 100000), 73257);
  // Balanced: 10 classes of 5,000.
  assert.equal(cappedTrainSize(DATASETS.cifar10, 4000), 40000);
  assert.equal(cappedTrainSize(DATASETS.cifar100, 600), 50000);
  // Extra images of unknown classes: every class is assumed to reach the cap.
  assert.equal(cappedTrainSize(DATASETS.svhn, null, SVHN_EXTRA_SIZE), 73257 + 531131);
  assert.equal(cappedTrainSize(DATASETS.svhn, SVHN_OFFICIAL_PER_CLASS_CAP, SVHN_EXTRA_SIZE), 73250);
});
