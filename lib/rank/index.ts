export * from './types.js';
export type * from './config.js';
export * as metrics from './metrics.js';
