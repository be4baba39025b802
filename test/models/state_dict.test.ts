/** Our weights ↔ the reference PyTorch state_dict: layout, order, num_batches_tracked, refusals. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, describeModel } from '../../src/models/registry.js';
import { fromStateDict, toStateDict, toTorchLayout } from '../../src/models/state_dict.js';
import { DataError } from '../../src/runtime/errors.js';
import { tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

test('conv kernels go from [kh, kw, in, out] to [out, in, kh, kw], dense from [in, out] to [out, in]', () => {
  // w[a][b][i][o] = 1000a + 100b + 10i + o, so each element says where it came from.
  const kh = 2, kw = 3, cin = 2, cout = 4;
  const vals: number[] = [];
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) vals.push(1000 * a + 100 * b + 10 * i + o);
  const torch = toTorchLayout(tf.tensor4d(vals, [kh, kw, cin, cout]));
  assert.deepEqual(torch.shape, [cout, cin, kh, kw]);
  const t = torch.arraySync() as number[][][][];
  assert.equal(t[3][1][1][2], 1000 + 200 + 10 + 3);
  assert.equal(t[0][1][0][1], 100 + 10);
  const dense = toTorchLayout(tf.tensor2d([[1, 2, 3], [4, 5, 6]])); // [in 2, out 3]
  assert.deepEqual(dense.arraySync(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(toTorchLayout(tf.tensor1d([7, 8])).arraySync(), [7, 8]);
});

const opts = { inputShape: [32, 32, 3] as [number, number, number], classes: 10, width: 2, finalBn: false };

test('the state_dict has PyTorch order with num_batches_tracked after each running_var, and round-trips', () => {
  for (const arch of ['preactresnet18', 'wrn28_2']) {
    const m = createModel(arch, opts, 3);
    const { specs } = describeModel(arch, opts);
    const tensors = new Map([...m.params.trainable, ...m.params.buffers] as [string, tf.Tensor][]);
    const sd = toStateDict(specs, tensors, 42, 'test');
    const names = sd.map(([n]) => n);
    const bns = specs.filter((s) => s.name.endsWith('.running_var')).length;
    assert.equal(sd.length, specs.length + bns);
    for (const [i, [name, a]] of sd.entries()) {
      if (name.endsWith('.num_batches_tracked')) {
        assert.equal(names[i - 1], name.replace('num_batches_tracked', 'running_var'));
        assert.deepEqual(a.shape, []);
        assert.deepEqual([...(a.data as BigInt64Array)], [42n]);
      }
    }
    assert.deepEqual(names.filter((n) => !n.endsWith('num_batches_tracked')), specs.map((s) => s.name));
    // Back to our layout: the very same numbers.
    const back = fromStateDict(specs, new Map(sd), 'test');
    for (const [name, t] of tensors) assert.deepEqual(back.get(name)!.dataSync(), t.dataSync(), name);
    tf.dispose([...back.values()]);
    m.params.dispose();
  }
});

test('a checkpoint of another architecture or width is refused with the names that differ', () => {
  const m = createModel('preactresnet18', opts, 0);
  const tensors = new Map([...m.params.trainable, ...m.params.buffers] as [string, tf.Tensor][]);
  const other = describeModel('preactresnet34', opts).specs;
  assert.throws(() => toStateDict(other, tensors, 0, 'ckpt'), (e: Error) => e instanceof DataError && /missing layer1\.2\./.test(e.message));
  const wider = describeModel('preactresnet18', { ...opts, width: 4 }).specs;
  assert.throws(() => toStateDict(wider, tensors, 0, 'ckpt'), (e: Error) => e instanceof DataError && /conv1\.weight has shape \[3,3,3,2\]/.test(e.message));
  m.params.dispose();
});
