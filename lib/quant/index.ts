export { nearest, nearestAsync, type Metric, type NearestOptions, type NearestResult } from './nearest.js';
export { kmeans, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { RQKMeans, type RQKMeansOptions } from './rqkmeans.js';
export { vqCodes, disambiguate, codeStats, type VQCodeOptions, type CodeStats, type LevelStats } from './vq_codes.js';
export { ResidualVQ, residualQuantize, type ResidualVQOptions, type ResidualQuantizeResult } from './rvq.js';
