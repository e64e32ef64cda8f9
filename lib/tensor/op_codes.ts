/**
 * The TypeScript side of native/common/op_codes.h: the codes that cross to both addons.
 * test/op_codes.test.js parses that header and checks these tables against it, so an op
 * added or reordered on one side only fails the suite instead of running the wrong op.
 */

/** A unary elementwise op of the `unary` kernel. */
export type UnaryName = 'neg' | 'relu' | 'sigmoid' | 'tanh' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'reluGrad';
/** A binary elementwise op of the `binary` kernel (`ge`/`le` give 1 where a >= b / a <= b, else 0). */
export type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'ge' | 'le';
/** A nearest-codeword metric: squared Euclidean, negative inner product, 1 − cosine. */
export type NearestMetric = 'l2' | 'ip' | 'cosine';

/** Unary op codes (`UnaryOp` in the header). @internal */
export const UNARY = { neg: 0, relu: 1, sigmoid: 2, tanh: 3, exp: 4, log: 5, sqrt: 6, abs: 7, square: 8, reluGrad: 9 } as const satisfies Record<
  UnaryName,
  number
>;
/** Binary op codes (`BinaryOp` in the header). @internal */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, ge: 7, le: 8 } as const satisfies Record<BinaryName, number>;
/** The metrics in the order of `Metric` in the header; both addons take the name. @internal */
export const NEAREST_METRICS = ['l2', 'ip', 'cosine'] as const satisfies readonly NearestMetric[];
