/** murmur3's 32-bit finaliser: a well-mixed uint32 of a uint32 (seeds streams, hashes code prefixes). */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
