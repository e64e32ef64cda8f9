/** murmur3's 32-bit finaliser (lib/tensor/hash.ts), under the name the ranker's files import. */
export { fmix32 } from '../tensor/hash.js';
