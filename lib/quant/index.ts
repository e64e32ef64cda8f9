export { nearest, nearestAsync, type Metric, type NearestOptions, type NearestResult } from './nearest.js';
export { kmeans, type KMeansCommunicator, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { RQKMeans, type RQKMeansFitOptions, type RQKMeansOptions } from './rqkmeans.js';
export { vqCodes, disambiguate, codeStats, type VQCodeOptions, type CodeStats, type LevelStats } from './vq_codes.js';
export { ResidualVQ, residualQuantize, type ResidualVQOptions, type ResidualQuantizeResult } from './rvq.js';
