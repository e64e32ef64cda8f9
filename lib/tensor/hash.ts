/**
 * murmur3's 32-bit finaliser, shared by every layer that needs a well-mixed uint32 of a uint32
 * (stream seeds, code-prefix hashes, data fingerprints for data-parallel agreement).
 */

/** murmur3's 32-bit finaliser: a bijection of uint32 with good avalanche. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
