/**
 * The ranker variants of the experiment (and the ablations): which item-side inputs each one
 * gets. All share the same splits, seeds, id features and history attention.
 */
import type { FeatureSwitches } from '../rank/feature_spec.js';
import type { CodeFeatures } from './config.js';

/** Which item-side table a variant reads. */
export interface VariantSpec {
  name: string;
  description: string;
  /** Frozen dense embedding through a trainable projection. */
  dense?: 'raw' | 'aligned';
  /** RQ codes, from raw content or aligned embeddings, or drawn at random in qarm's shape (a control). */
  rq?: 'raw' | 'aligned' | 'random';
  /** VQ codes (top-K pool neighbours), from raw or aligned embeddings, or random pool entries (a control). */
  vq?: 'raw' | 'aligned' | 'random';
  /** Code-match cross features over the history (needs rq). */
  cross?: boolean;
}

export const VARIANT_SPECS: Record<string, VariantSpec> = {
  id: { name: 'id', description: 'user id, item id, history of item ids with target attention' },
  'id+content': { name: 'id+content', description: 'id + frozen raw content embedding through a trainable projection (the cascade paradigm)', dense: 'raw' },
  'id+aligned': { name: 'id+aligned', description: 'id + frozen aligned embedding through a trainable projection', dense: 'aligned' },
  'id+rq-raw': {
    name: 'id+rq-raw',
    description: 'id + trainable RQ codes built from unaligned content (target and history, with cross features)',
    rq: 'raw',
    cross: true,
  },
  qarm: {
    name: 'qarm',
    description:
      'id + trainable VQ and RQ codes from aligned embeddings (mixed with content by default, codes.space), code-match cross features over the history',
    rq: 'aligned',
    vq: 'aligned',
    cross: true,
  },
  // The hashing control of Singh et al. (RecSys 2024): qarm's tables and features, codes without meaning.
  'id+random-codes': {
    name: 'id+random-codes',
    description: "qarm's tables and features with codes of the same shape drawn at random per item (same capacity, no semantics)",
    rq: 'random',
    vq: 'random',
    cross: true,
  },
  // Ablations of qarm.
  'qarm-unaligned': { name: 'qarm-unaligned', description: 'qarm with codes from raw content (alignment off)', rq: 'raw', vq: 'raw', cross: true },
  'qarm-rq-only': { name: 'qarm-rq-only', description: 'qarm without VQ codes', rq: 'aligned', cross: true },
  'qarm-vq-only': { name: 'qarm-vq-only', description: 'qarm without RQ codes (so without cross features)', vq: 'aligned' },
  'qarm-no-cross': { name: 'qarm-no-cross', description: 'qarm without the code-match cross features', rq: 'aligned', vq: 'aligned', cross: false },
};

export const ABLATIONS = ['qarm-unaligned', 'qarm-rq-only', 'qarm-vq-only', 'qarm-no-cross'] as const;

/** The ranker feature switches of a variant (`codes`: how code features are built, `codes.features`). */
export function featureSwitches(v: VariantSpec, codes?: Pick<CodeFeatures, 'vqHistory' | 'vqCross'>): FeatureSwitches {
  return {
    userId: true,
    itemId: true,
    history: true,
    dense: v.dense !== undefined,
    rq: v.rq !== undefined,
    historyCodes: v.rq !== undefined,
    cross: v.rq !== undefined && (v.cross ?? false),
    vq: v.vq !== undefined,
    vqHistory: v.vq !== undefined && (codes?.vqHistory ?? false),
    vqCross: v.vq !== undefined && (codes?.vqCross ?? false),
  };
}
