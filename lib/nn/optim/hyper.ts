import { ValueError } from '../../errors.js';

/** Throws a ValueError naming the first hyperparameter that is negative or not finite. */
export function checkHyper(values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`argument '${k}' must be a finite non-negative number, got ${v}`, k);
  }
}
