/**
 * The TypeScript side of native/common/op_codes.h: the codes that cross to both addons.
 * test/op_codes.test.js parses that header and checks these tables against it, so an op
 * added or reordered on one side only fails the suite instead of running the wrong op.
 * @internal
 */

/** Unary elementwise ops (`UnaryOp` in the header), by name. */
export const UNARY = { neg: 0, relu: 1, sigmoid: 2, tanh: 3, exp: 4, log: 5, sqrt: 6, abs: 7, square: 8, reluGrad: 9 } as const;
/** Binary elementwise ops (`BinaryOp` in the header), by name. */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, ge: 7, le: 8 } as const;
/** Nearest-codeword metrics (`Metric` in the header, in its order); both addons take the name. */
export const NEAREST_METRICS = ['l2', 'ip', 'cosine'] as const;

export type UnaryName = keyof typeof UNARY;
export type BinaryName = keyof typeof BINARY;
export type NearestMetric = (typeof NEAREST_METRICS)[number];
