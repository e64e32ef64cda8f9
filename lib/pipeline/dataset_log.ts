/**
 * Adapter from a loaded dataset folder ({@link Dataset}, lib/data) to the columnar
 * {@link InteractionLog} the protocol works on.
 */
import type { Dataset } from '../data/dataset.js';
import type { InteractionLog } from './protocol.js';

/** The dataset's interactions as typed columns (users and items stay the dataset's indices). */
export function interactionLog(ds: Dataset): InteractionLog {
  const n = ds.interactions.length;
  const log: InteractionLog = {
    numUsers: ds.users.length,
    numItems: ds.items.length,
    user: new Int32Array(n),
    item: new Int32Array(n),
    time: new Float64Array(n),
    basket: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const e = ds.interactions[i];
    log.user[i] = e.user;
    log.item[i] = e.item;
    log.time[i] = e.time;
    log.basket[i] = e.basket;
  }
  return log;
}
