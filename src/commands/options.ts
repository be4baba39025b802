/** Flags and flag parsing that several commands share. */
import { Option } from 'commander';
import { UsageError } from '../runtime/errors.js';

/** `--checkpoint last|best`: which of a run's checkpoints a command reads. */
export const checkpointOption = () =>
  new Option('--checkpoint <which>', "the last epoch's weights or the best test accuracy's").choices(['last', 'best']).default('last');

export function positiveInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} ${text}: expected a whole number ≥ 1`);
  return Number(text);
}
