/**
 * Reverse-mode automatic differentiation. Each differentiable op calls {@link record} with
 * its inputs and a backward rule; the rule lives beside the op's forward (one file per op
 * family in `autograd/ops/`). `backward()` walks the graph in reverse topological order,
 * summing gradients per tensor, and accumulates into the `.grad` of leaves that require it.
 * Backward rules run with recording off (no higher-order gradients).
 */
import { ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import { keep } from '../tensor/memory.js';
import { tensorHooks, type GradFnLike, type Tensor } from '../tensor/tensor.js';
import { RowSparseGrad } from './sparse.js';

/** A gradient flowing to one input: dense, row-sparse (embedding tables), or none. */
export type Grad = Tensor | RowSparseGrad | null;

/** Graph node of an op output. @internal */
export class GradFn implements GradFnLike {
  constructor(
    readonly name: string,
    readonly inputs: readonly Tensor[],
    readonly backward: (dy: Tensor) => Grad[],
  ) {}
}

let gradEnabled = true;

/** Whether ops currently record gradients. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether any input asks for gradients while recording is on. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/**
 * Attaches a backward rule to `out` when any input requires gradients.
 * `backward(dy)` returns one gradient per input (null where none flows).
 */
export function record(name: string, out: Tensor, inputs: readonly Tensor[], backward: (dy: Tensor) => Grad[]): Tensor {
  if (needsGrad(inputs)) {
    out.requiresGrad = true;
    out.gradFn = new GradFn(name, inputs, backward);
  }
  return out;
}

/** Dense gradient helpers the engine needs; installed by `ops/` to avoid an import cycle. @internal */
export const gradMath: {
  add: ((a: Tensor, b: Tensor) => Tensor) | null;
  onesLike: ((t: Tensor) => Tensor) | null;
} = { add: null, onesLike: null };

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const fn = t.gradFn as GradFn | null;
    if (i === 0 && seen.has(t)) {
      stack.pop();
      continue;
    }
    seen.add(t);
    if (fn && i < fn.inputs.length) {
      top[1]++;
      const child = fn.inputs[i];
      if (child.requiresGrad && !seen.has(child)) stack.push([child, 0]);
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order.reverse();
}

function accumulate(a: Grad, b: Grad): Grad {
  if (!a) return b;
  if (!b) return a;
  if (a instanceof RowSparseGrad || b instanceof RowSparseGrad) {
    if (a instanceof RowSparseGrad && b instanceof RowSparseGrad) return RowSparseGrad.concat(a, b);
    const dense = (a instanceof RowSparseGrad ? b : a) as Tensor;
    const sparse = (a instanceof RowSparseGrad ? a : b) as RowSparseGrad;
    const sum = sparse.addToDense(dense);
    return sum;
  }
  const sum = gradMath.add!(a, b);
  return sum;
}

/** `g` itself when nothing else can reach its storage, else a copy. */
function ownedGrad(g: Tensor, given: Tensor | null, leafGrads: Set<Tensor>): Tensor {
  const shared = g === given || leafGrads.has(g) || g.gradFn !== null || g.requiresGrad || g.storage('grad').refs > 1;
  return shared ? runKernel('copy', { x: g }) : g;
}

/** Computes gradients of `root` (a scalar unless `grad` is given) with respect to every leaf that requires them. */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new ValueError('backward(): this tensor does not require gradients (no input had requiresGrad)');
  if (!grad && root.size !== 1) {
    throw new ShapeError(`backward() without a gradient needs a scalar, got shape [${root.shape.join(', ')}]`);
  }
  if (grad && grad.shape.join() !== root.shape.join()) {
    throw new ShapeError(`backward(): argument 'grad' has shape [${grad.shape.join(', ')}], the output has [${root.shape.join(', ')}]`, 'grad');
  }
  noGrad(() => {
    const given = grad ?? null;
    const leafGrads = new Set<Tensor>();
    const grads = new Map<Tensor, Grad>();
    grads.set(root, grad ?? gradMath.onesLike!(root));
    for (const t of topoOrder(root)) {
      const g = grads.get(t) ?? null;
      grads.delete(t);
      if (!g) continue;
      const fn = t.gradFn as GradFn | null;
      if (!fn) {
        // A leaf: its gradient outlives any tidy scope until the optimizer clears it, and it
        // must own its memory (optimizers and clipGradNorm write it in place, zeroGrad
        // disposes it), so a tensor shared with another leaf, the caller's seed gradient
        // or a view of another tensor is copied first.
        const prev = t.grad as Grad;
        let total: Grad;
        if (prev) {
          total = accumulate(prev, g);
          if (total !== prev) prev.dispose();
        } else {
          total = g instanceof RowSparseGrad ? g : ownedGrad(g, given, leafGrads);
        }
        if (total instanceof RowSparseGrad) total.keep();
        else if (total) {
          keep(total);
          leafGrads.add(total);
        }
        t.grad = total;
        continue;
      }
      if (g instanceof RowSparseGrad) throw new ValueError(`op '${fn.name}' received a row-sparse gradient; only leaves accept them`);
      const inGrads = fn.backward(g);
      fn.inputs.forEach((input, i) => {
        const gi = inGrads[i];
        if (!gi || !input.requiresGrad) return;
        grads.set(input, accumulate(grads.get(input) ?? null, gi));
      });
    }
  });
}

tensorHooks.backward = backward;
