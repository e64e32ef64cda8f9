export { buildProtocol, sliceMask, type InteractionLog, type ProtocolOptions, type SampleSet, type Protocol, type ProtocolStats } from './protocol.js';
export { resolveSplit, parseTimePoint, DEFAULT_FRACTIONS, BUNDLED_SPLIT, type SplitOptions, type ResolvedSplit, type TimePoint } from './protocol_split.js';
export { interactionLog } from './dataset_log.js';
export * from './results.js';
export { renderReport } from './report.js';
export { itemOrder, permuteRows, toRankSamples, warmMask, type ItemOrder, type ToRankOptions } from './features.js';
export { consoleProgress, silentProgress, type ConsoleProgressOptions, type Progress, type Task } from './progress.js';
export { ConfigSchema, defaultConfig, defaultCodeFeatures, resolveConfig, validateConfig, readConfigFile, QUICK_PRESET, type ConfigFile, type RunConfig, type CodeFeatures } from './config.js';
