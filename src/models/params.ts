/**
 * Parameters as named tf.Variables, named after the reference PyTorch module paths
 * (`layer1.0.conv1.weight`, `layer1.0.bn1.running_mean`, …), created with PyTorch's
 * default initialization from a seeded stream so that init is the same on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../runtime/rng.js';

/** One parameter or buffer as registered: name, PyTorch-layout shape, trainable or state. */
export interface ParamSpec {
  name: string;
  /** The shape in PyTorch's layout (conv [out, in, kh, kw], linear [out, in]). */
  torchShape: number[];
  trainable: boolean;
}

export class ParamStore {
  /** Trainable parameters, in creation order (which is PyTorch's registration order). */
  readonly trainable = new Map<string, tf.Variable>();
  /** BatchNorm running statistics: state, not trained. */
  readonly buffers = new Map<string, tf.Variable>();
  /**
   * Every parameter and buffer in registration order, which is the order of the reference
   * PyTorch state_dict; recorded in shape-only mode too.
   */
  readonly specs: ParamSpec[] = [];
  private readonly names = new Set<string>();
  private placeholder?: tf.Variable;

  /**
   * `shapeOnly`: record names and shapes without creating tensors (the maps stay empty and
   * every parameter is an empty placeholder), to count a large network's parameters cheaply.
   * Such a model cannot run.
   */
  constructor(
    private readonly rng: Rng,
    readonly shapeOnly = false,
  ) {}

  /** Records a spec; in shape-only mode returns the placeholder instead of creating the tensor. */
  private declare(name: string, torchShape: number[], trainable: boolean): tf.Variable | undefined {
    if (this.names.has(name)) throw new Error(`duplicate parameter ${name}`);
    this.names.add(name);
    this.specs.push({ name, torchShape, trainable });
    if (!this.shapeOnly) return undefined;
    if (!this.placeholder) {
      const empty = tf.zeros([0]);
      this.placeholder = tf.variable(empty, false);
      empty.dispose();
    }
    return this.placeholder;
  }

  private uniform(shape: number[], bound: number): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (2 * this.rng.uniform() - 1) * bound;
    return tf.tensor(v, shape);
  }

  private add(map: Map<string, tf.Variable>, name: string, value: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.trainable.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter ${name}`);
    // Engine-wide variable names must be unique; ours live in the map, so tfjs picks its own.
    const v = tf.variable(value, trainable);
    value.dispose();
    map.set(name, v);
    return v;
  }

  /**
   * Conv weight [kh, kw, in, out] (TensorFlow.js layout) with PyTorch's default init,
   * kaiming_uniform(a=√5): U(±1/√fan_in), fan_in = in·kh·kw.
   */
  conv(name: string, k: number, cin: number, cout: number): tf.Variable {
    const skip = this.declare(`${name}.weight`, [cout, cin, k, k], true);
    if (skip) return skip;
    // Draw in PyTorch's [out, in, kh, kw] order, then lay out as [kh, kw, in, out], so a
    // given stream yields the same kernel whatever the layout.
    const fanIn = cin * k * k;
    const torch = this.uniform([cout, cin, k, k], 1 / Math.sqrt(fanIn));
    const w = tf.tidy(() => tf.transpose(torch, [2, 3, 1, 0]));
    torch.dispose();
    return this.add(this.trainable, `${name}.weight`, w, true);
  }

  /** Bias U(±1/√fan_in), PyTorch's default for Conv2d and Linear. */
  bias(name: string, fanIn: number, n: number): tf.Variable {
    return this.declare(`${name}.bias`, [n], true) ?? this.add(this.trainable, `${name}.bias`, this.uniform([n], 1 / Math.sqrt(fanIn)), true);
  }

  /** Dense weight [in, out] (TensorFlow.js layout), PyTorch Linear init. */
  dense(name: string, cin: number, cout: number): tf.Variable {
    const skip = this.declare(`${name}.weight`, [cout, cin], true);
    if (skip) return skip;
    const torch = this.uniform([cout, cin], 1 / Math.sqrt(cin));
    const w = tf.tidy(() => tf.transpose(torch));
    torch.dispose();
    return this.add(this.trainable, `${name}.weight`, w, true);
  }

  /** BatchNorm: weight (γ) 1, bias (β) 0, running_mean 0, running_var 1. */
  batchNorm(name: string, c: number): BatchNormParams {
    const make = (suffix: string, trainable: boolean, init: () => tf.Tensor) =>
      this.declare(`${name}.${suffix}`, [c], trainable) ?? this.add(trainable ? this.trainable : this.buffers, `${name}.${suffix}`, init(), trainable);
    return {
      name,
      gamma: make('weight', true, () => tf.ones([c])),
      beta: make('bias', true, () => tf.zeros([c])),
      runningMean: make('running_mean', false, () => tf.zeros([c])),
      runningVar: make('running_var', false, () => tf.ones([c])),
    };
  }

  /** Trainable parameters (BN running statistics not counted), from the recorded shapes. */
  countTrainable(): number {
    let n = 0;
    for (const s of this.specs) if (s.trainable) n += s.torchShape.reduce((a, b) => a * b, 1);
    return n;
  }

  dispose(): void {
    for (const v of [...this.trainable.values(), ...this.buffers.values()]) v.dispose();
    this.placeholder?.dispose();
    this.placeholder = undefined;
    this.trainable.clear();
    this.buffers.clear();
  }
}

export interface BatchNormParams {
  name: string;
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}
