/**
 * Ranking metrics: AUC (tie-aware, O(n log n)), GAUC (the DIN definition) and clipped log
 * loss. Inputs are plain arrays, typed arrays or 1-D tensors; everything is computed in
 * float64. Exported from 'qarm' as `metrics.auc`, `metrics.gauc`, `metrics.logloss`.
 */
import { ShapeError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** Numbers as a plain array-like: a JS array, a typed array or a tensor. */
export type Values = ArrayLike<number> | Tensor;

function values(v: Values, name: string): ArrayLike<number> {
  if (v instanceof Tensor) return v.toTypedArray();
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new ValueError(`argument '${name}' must be an array, a typed array or a Tensor`, name);
  }
  return v;
}

function checkInputs(labels: Values, scores: Values, scoreName: string): [ArrayLike<number>, ArrayLike<number>] {
  const y = values(labels, 'labels');
  const s = values(scores, scoreName);
  if (y.length !== s.length) {
    throw new ShapeError(`argument '${scoreName}' has ${s.length} entries but 'labels' has ${y.length}`, scoreName);
  }
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new ValueError(`argument 'labels' must hold 0 or 1, got ${y[i]} at ${i}`, 'labels');
    if (Number.isNaN(s[i])) throw new ValueError(`argument '${scoreName}' holds NaN at ${i}`, scoreName);
  }
  return [y, s];
}

/**
 * AUC of `rows` (indices into y/s): the Mann–Whitney statistic with tied scores given their
 * average rank, i.e. P(score of a random positive > a random negative) + ½ P(tie).
 * Returns NaN when `rows` lacks one of the classes.
 *
 * The positives' and negatives' scores are sorted apart (native numeric typed-array sorts, no
 * JS comparator) and merged one distinct score at a time: the same tie groups in the same
 * ascending order as one sort of all rows, so the rank sum is accumulated in the same order.
 */
function aucOf(y: ArrayLike<number>, s: ArrayLike<number>, rows: Int32Array | number[]): number {
  const n = rows.length;
  let pos = 0;
  for (let i = 0; i < n; i++) if (y[rows[i]] === 1) pos++;
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  const ps = new Float64Array(pos);
  const ns = new Float64Array(neg);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    const r = rows[i];
    if (y[r] === 1) ps[a++] = s[r];
    else ns[b++] = s[r];
  }
  ps.sort();
  ns.sort();
  let rankSumPos = 0;
  let done = 0; // samples ranked so far
  for (let i = 0, j = 0; i < pos || j < neg;) {
    const v = j >= neg || (i < pos && ps[i] <= ns[j]) ? ps[i] : ns[j];
    let tp = 0;
    let tn = 0;
    while (i < pos && ps[i] === v) {
      i++;
      tp++;
    }
    while (j < neg && ns[j] === v) {
      j++;
      tn++;
    }
    const avgRank = (done + 1 + done + tp + tn) / 2; // 1-based ranks done+1..done+tp+tn
    for (let k = 0; k < tp; k++) rankSumPos += avgRank;
    done += tp + tn;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Area under the ROC curve. Ties in `scores` count one half (as scikit-learn's
 * `roc_auc_score`). Throws a ValueError when `labels` hold only one class.
 */
export function auc(labels: Values, scores: Values): number {
  const [y, s] = checkInputs(labels, scores, 'scores');
  const rows = new Int32Array(y.length);
  for (let i = 0; i < rows.length; i++) rows[i] = i;
  const a = aucOf(y, s, rows);
  if (Number.isNaN(a)) throw new ValueError("auc(): argument 'labels' must contain both classes", 'labels');
  return a;
}

/**
 * Group AUC as defined in DIN (Zhou et al. 2018): the AUC of each group (usually a user),
 * averaged with weights equal to the group's number of samples. Groups whose samples are all
 * of one class have no AUC and are skipped (they count neither in the sum nor the weights).
 * Throws a ValueError when no group has both classes.
 */
export function gauc(labels: Values, scores: Values, groups: Values): number {
  const [y, s] = checkInputs(labels, scores, 'scores');
  const g = values(groups, 'groups');
  if (g.length !== y.length) throw new ShapeError(`argument 'groups' has ${g.length} entries but 'labels' has ${y.length}`, 'groups');
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < g.length; i++) {
    let rows = byGroup.get(g[i]);
    if (!rows) byGroup.set(g[i], (rows = []));
    rows.push(i);
  }
  let num = 0;
  let den = 0;
  for (const rows of byGroup.values()) {
    const a = aucOf(y, s, rows);
    if (Number.isNaN(a)) continue;
    num += rows.length * a;
    den += rows.length;
  }
  if (den === 0) throw new ValueError("gauc(): no group in 'groups' contains both classes", 'groups');
  return num / den;
}

/**
 * Mean binary cross-entropy of probabilities, each clipped to [eps, 1 − eps] first so a
 * confident mistake costs a large but finite amount (scikit-learn 1.2's `log_loss`, eps 1e-15).
 */
export function logloss(labels: Values, probs: Values, eps = 1e-15): number {
  const [y, p] = checkInputs(labels, probs, 'probs');
  if (!(eps > 0 && eps < 0.5)) throw new ValueError(`argument 'eps' must be in (0, 0.5), got ${eps}`, 'eps');
  if (!y.length) throw new ValueError("logloss(): argument 'labels' is empty", 'labels');
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    if (!(p[i] >= 0 && p[i] <= 1)) throw new ValueError(`argument 'probs' must lie in [0, 1], got ${p[i]} at ${i}`, 'probs');
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    sum -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return sum / y.length;
}
