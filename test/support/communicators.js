// Stand-ins for the `dist` option of kmeans and RQKMeans.fit, shared by their argument tests.
import assert from 'node:assert/strict';

/** Values that are not communicators; a function with communicator members is still not an object. */
export const NOT_COMMUNICATORS = [
  null,
  3,
  Object.assign(() => {}, { rank: 0, worldSize: 1, allReduce() {} }),
  {},
  { worldSize: 1.5, allReduce() {} },
  { worldSize: 2, allReduce: 1 },
];

/** A one-rank communicator whose collectives fail the test if called (one rank needs none). */
export function oneRank() {
  return {
    rank: 0,
    worldSize: 1,
    allReduce: () => assert.fail('no collective with one rank'),
    allGather: () => assert.fail(),
    broadcast: () => assert.fail(),
  };
}
