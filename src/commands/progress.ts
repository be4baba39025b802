/**
 * Training progress for people: a cli-progress bar per epoch on a TTY (step, ETA, live
 * loss/acc/lr), plain lines otherwise (CI logs). Part of the CLI's reporting layer.
 */
import cliProgress from 'cli-progress';
import type { EpochRecord, StepProgress, TrainEvents } from '../train/loop.js';
import type { Reporter } from './report.js';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function epochLine(r: EpochRecord, epochs: number): string {
  return (
    `epoch ${r.epoch}/${epochs}  train loss ${r.train_loss.toFixed(4)} acc ${pct(r.train_acc)}  ` +
    `test acc ${pct(r.test_acc)} err ${pct(r.test_err)} nll ${r.test_loss.toFixed(4)}  ` +
    `${r.seconds.toFixed(1)} s, ${r.images_per_s.toFixed(1)} img/s`
  );
}

export function progressEvents(epochs: number, report: Reporter): TrainEvents & { stop(): void } {
  const stream = report.progressStream;
  let bar: cliProgress.SingleBar | null = null;
  let nextPlain = 0;
  const payload = (p: StepProgress) => ({ loss: p.loss.toFixed(4), acc: pct(p.acc), lr: p.lr.toPrecision(3), ep: `${p.epoch}/${epochs}` });
  return {
    onEpochStart(epoch, steps, lr) {
      nextPlain = Math.max(1, Math.floor(steps / 10));
      if (!stream) return;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: 'epoch {ep} |{bar}| {value}/{total} steps | loss {loss} acc {acc} | lr {lr} | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(steps, 0, { loss: '-', acc: '-', lr: lr.toPrecision(3), ep: `${epoch}/${epochs}` });
    },
    onStep(p) {
      if (bar) bar.update(p.step, payload(p));
      else if (p.step % nextPlain === 0 || p.step === p.steps) {
        report.err(`epoch ${p.epoch}/${epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${pct(p.acc)} lr ${p.lr.toPrecision(3)}`);
      }
    },
    async onEpochEnd(record) {
      bar?.stop();
      bar = null;
      report.err(epochLine(record, epochs));
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
