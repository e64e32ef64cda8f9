/**
 * How data-parallel training splits a global batch between ranks.
 * @internal
 */

/**
 * Rank `rank`'s contiguous part [start, end) of `n` items split over `size` ranks: the first
 * `n % size` ranks get one more (a rank gets none when n < size).
 */
export function rankSlice(n: number, size: number, rank: number): [number, number] {
  const base = Math.floor(n / size);
  const extra = n % size;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}
