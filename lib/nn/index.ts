export { Module, parameter } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { MLP, type MLPOptions, type Activation } from './mlp.js';
export * as init from './init.js';
export * as optim from './optim/index.js';
