export { Module, parameter } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { MLP, type MLPOptions, type Activation } from './mlp.js';
export * as init from './init.js';
export * as optim from './optim/index.js';
export { Embedding, EmbeddingBag, type EmbeddingOptions, type EmbeddingBagLayerOptions } from './embedding.js';
export { TargetAttention, type TargetAttentionOptions } from './attention.js';
export { bceWithLogits, type BCEOptions } from './loss.js';
