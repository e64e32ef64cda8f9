export { buildProtocol, sliceMask, type InteractionLog, type ProtocolOptions, type SampleSet, type Protocol, type ProtocolStats } from './protocol.js';
export { resolveSplit, parseTimePoint, DEFAULT_FRACTIONS, BUNDLED_SPLIT, type SplitOptions, type ResolvedSplit, type TimePoint } from './protocol_split.js';
export { interactionLog } from './dataset_log.js';
export * from './results.js';
export { renderReport } from './report.js';
