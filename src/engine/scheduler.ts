/**
 * The ordering policy in front of the backends, as the engine sees it: the engine (the runner) asks for the next
 * job whenever a backend has a free slot, and never knows how the order is decided. FairScheduler (deficit round
 * robin by user and cost) is the one the product uses.
 */
export interface SchedulerItem {
  readonly id: string;
  /** Fairness key: platform + user id. */
  readonly userKey: string;
  /** Estimated GPU work in cost units (NFE × megapixels × images). */
  readonly cost: number;
}

export interface Scheduler<T extends SchedulerItem> {
  /** Items waiting. */
  readonly size: number;
  /** Items one user has waiting. */
  sizeOf(userKey: string): number;
  enqueue(item: T): void;
  /** Removes a waiting item (a cancelled job); undefined when it is not waiting. */
  remove(id: string): T | undefined;
  /** Dequeues the next item the policy serves among those `eligible` accepts, charging its cost. */
  next(eligible?: (item: T) => boolean): T | undefined;
  /** Gives a charged cost back (blocked, failed or cancelled work is free). */
  refund(userKey: string, cost: number): void;
  /** Every waiting item in the order it would be served if nothing else arrived; changes nothing. */
  order(): T[];
}
