/**
 * Runs that survive: kill -9 at random points (and inside checkpoint writes), SIGINT, resume;
 * the resumed run must end bit-identical to one trained straight through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/paths.js';
import { Rng } from '../../src/runtime/rng.js';

const root = packageRoot();
const bin = join(root, 'dist', 'src', 'bin.js');
const CONFIG = `name: resume
dataset: {name: fashion-mnist-subset, train_limit: 300, test_limit: 100}
model: {width: 2}
mixup: {mode: manifold, alpha: 2}
train: {epochs: 3, batch_size: 25, checkpoint_every: 3}
`;

function setup() {
  const tmp = mkdtempSync(join(tmpdir(), 'resume-'));
  const config = join(tmp, 'resume.yaml');
  writeFileSync(config, CONFIG);
  return { tmp, config };
}

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

const onlyDir = (out: string) => {
  const ids = existsSync(out) ? readdirSync(out) : [];
  return ids.length === 1 ? join(out, ids[0]) : null;
};

/** What must be identical between two runs: every figure but wall-clock times, and the weights. */
function outcome(dir: string) {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { seconds, images_per_s, ...rest } = JSON.parse(l);
    return rest;
  });
  return {
    final: summary.final,
    best: summary.best,
    metrics,
    weights: readFileSync(join(dir, 'checkpoint', 'weights.bin')).toString('base64'),
    optimizer: readFileSync(join(dir, 'checkpoint', 'optimizer.bin')).toString('base64'),
    bestWeights: readFileSync(join(dir, 'checkpoint-best', 'weights.bin')).toString('base64'),
  };
}

let straightCache: ReturnType<typeof outcome> | undefined;
function straight() {
  if (straightCache) return straightCache;
  const { tmp, config } = setup();
  const r = run(['train', '--config', config, '--out', join(tmp, 'runs')]);
  assert.equal(r.status, 0, r.stderr);
  return (straightCache = outcome(onlyDir(join(tmp, 'runs'))!));
}

/**
 * Runs mixup-run, calling `onOutput` with all stderr so far each time more arrives (to send
 * signals at chosen points); resolves with the exit code (null when killed) and stderr.
 */
function watch(args: string[], onOutput: (stderr: string, child: ChildProcess) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      onOutput(stderr, child);
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/**
 * Starts a run (or resumes it) and kills it with SIGKILL `extraMs` after it has reported
 * `steps` training steps, so every attempt makes progress however loaded the machine is.
 */
async function killAfterSteps(args: string[], steps: number, extraMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const { code } = await watch(args, (stderr, child) => {
    if (!timer && (stderr.match(/ step \d+\//g) ?? []).length >= steps) timer = setTimeout(() => child.kill('SIGKILL'), extraMs);
  });
  clearTimeout(timer);
  return code;
}

test('kill -9 at random points, resumed each time, ends bit-identical to a straight run', async () => {
  const want = straight();
  const { tmp, config } = setup();
  const out = join(tmp, 'runs');
  const rng = new Rng(2026, 'kill-points');
  let kills = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    const dir = onlyDir(out);
    const done = dir && JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status === 'done';
    if (done) break;
    const args = dir ? ['train', '--resume', dir] : ['train', '--config', config, '--out', out];
    // Somewhere after 2–8 more steps: between steps, inside a step, or inside a checkpoint write.
    const code = await killAfterSteps(args, 2 + rng.int(7), rng.int(120));
    if (code === null) kills++;
  }
  const dir = onlyDir(out)!;
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'done');
  assert.ok(kills >= 2, `only ${kills} kills landed`);
  assert.deepEqual(outcome(dir), want);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no leftovers of interrupted checkpoint writes');
});

test('a crash inside each phase of a checkpoint write leaves a resumable run', () => {
  const want = straight();
  for (const fault of ['checkpoint-weights:2', 'checkpoint-written:3', 'checkpoint-swap:4']) {
    const { tmp, config } = setup();
    const out = join(tmp, 'runs');
    const killed = run(['train', '--config', config, '--out', out], { MIXUP_RUN_FAULT: fault });
    assert.equal(killed.signal, 'SIGKILL', `${fault}: the fault did not fire`);
    const dir = onlyDir(out)!;
    if (fault.startsWith('checkpoint-swap')) assert.ok(!existsSync(join(dir, 'checkpoint')), 'killed between the two renames');
    const resumed = run(['train', '--resume', dir]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(outcome(dir), want, fault);
  }
});

test('SIGINT stops after a step with a checkpoint, exit 130, run.json interrupted; resume completes it', async () => {
  const want = straight();
  const { tmp, config } = setup();
  const out = join(tmp, 'runs');
  // Interrupt in the middle of the second epoch.
  const { code, stderr } = await watch(['train', '--config', config, '--out', out], (text, child) => {
    if (/epoch 2\/3 step 3\//.test(text) && !child.killed) child.kill('SIGINT');
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: stopping after the current step/);
  const dir = onlyDir(out)!;
  const manifest = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(manifest.status, 'interrupted');
  const state = JSON.parse(readFileSync(join(dir, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(state.epoch, 1);
  assert.ok(state.step >= 3, `checkpoint at step ${state.step}`);
  const resumed = run(['train', '--resume', dir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* at epoch 2, step/);
  assert.deepEqual(outcome(dir), want);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).resumed.length, 1);
  // Resuming a finished run does nothing.
  const again = run(['train', '--resume', dir]);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /already complete/);
});

test('a second SIGINT exits at once, leaving readable files', async () => {
  const { tmp, config } = setup();
  const out = join(tmp, 'runs');
  const { code } = await watch(['train', '--config', config, '--out', out], (text, child) => {
    if (/step 2\//.test(text) && !child.killed) {
      child.kill('SIGINT');
      child.kill('SIGINT');
    }
  });
  assert.equal(code, 130);
  const dir = onlyDir(out)!;
  JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp') && !f.startsWith('.checkpoint')).length, 0);
});

test('resume refuses a run whose config.yaml changed, unless --force', () => {
  const { tmp, config } = setup();
  const out = join(tmp, 'runs');
  assert.equal(run(['train', '--config', config, '--out', out, '--set', 'train.epochs=1']).status, 0);
  const dir = onlyDir(out)!;
  const manifestPath = join(dir, 'run.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, status: 'interrupted' }));
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace('epochs: 1', 'epochs: 2'));
  const refused = run(['train', '--resume', dir]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /config\.yaml differs .* --force/);
  const forced = run(['train', '--resume', dir, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).epochs, 2);
});

test('a diverging run stops with an error naming epoch and step, status failed, last good checkpoint kept', () => {
  const { tmp, config } = setup();
  const out = join(tmp, 'runs');
  const r = run(['train', '--config', config, '--out', out, '--set', 'train.lr=1e30', '--set', 'train.loss=ce']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /(loss became|weights became non-finite).* epoch \d+, step \d+/);
  const dir = onlyDir(out)!;
  const manifest = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(manifest.status, 'failed');
  assert.match(manifest.error, /epoch/);
  assert.ok(!existsSync(join(dir, 'summary.json')));
});
