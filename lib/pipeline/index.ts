export { buildProtocol, sliceMask, type InteractionLog, type ProtocolOptions, type SampleSet, type Protocol, type ProtocolStats } from './protocol.js';
export {
  resolveSplit,
  parseTimePoint,
  perUserCuts,
  userCut,
  periodOf,
  DEFAULT_FRACTIONS,
  DEFAULT_SHARES,
  BUNDLED_SPLIT,
  type SplitOptions,
  type ResolvedSplit,
  type TimePoint,
  type UserCuts,
} from './protocol_split.js';
export { interactionLog } from './dataset_log.js';
export * from './results.js';
export { renderReport } from './report.js';
export { itemOrder, permuteRows, toRankSamples, warmMask, type ItemOrder, type ToRankOptions } from './features.js';
export { consoleProgress, silentProgress, type ConsoleProgressOptions, type Progress, type Task } from './progress.js';
export { runAlignCommand, type AlignCommandOptions } from './align_command.js';
export {
  ConfigSchema,
  RunConfigSchema,
  PairsSchema,
  AlignSchema,
  SplitSchema,
  CodeFeaturesSchema,
  CODE_SPACES,
  defaultConfig,
  defaultCodeFeatures,
  legacyCodeFeatures,
  resolveConfig,
  validateConfig,
  readConfigFile,
  QUICK_PRESET,
  type ConfigFile,
  type RunConfig,
  type CodeFeatures,
  type CodeSpace,
} from './config.js';
