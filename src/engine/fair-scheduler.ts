/**
 * Deficit round robin over users (Shreedhar & Varghese, 1996), weighted by each job's estimated GPU cost.
 *
 * The policy only orders work; the engine (the runner) decides when a worker is free. Each visit to a backlogged
 * user adds `quantum` to its deficit; the user's oldest job is served when its cost fits the deficit, and a visit
 * ends when the next job does not fit. New users join at the end of the current round. A user whose queue empties
 * leaves the round and loses its deficit, so idle users cannot bank credit. When no user can afford its head job in
 * a whole round, the rounds in which nothing could happen are skipped arithmetically, so a small quantum costs no
 * time.
 */

import type { Scheduler, SchedulerItem } from './scheduler.ts';

export type FairItem = SchedulerItem;

export interface FairSchedulerOptions {
  /** Credit per visit, in cost units. Must be > 0. */
  readonly quantum: number;
}

interface UserQueue<T> {
  items: T[];
  head: number;
  deficit: number;
}

/** The mutable state one pick works on: the real queues, or a copy-on-read simulation of them. */
interface DrrView<T> {
  ring: string[];
  cursor: number;
  inVisit: boolean;
  headOf(user: string): T | undefined;
  deficitOf(user: string): number;
  setDeficit(user: string, value: number): void;
  /** Removes the head; returns whether the user still has items. */
  pop(user: string): boolean;
}

export class FairScheduler<T extends FairItem> implements Scheduler<T> {
  readonly #quantum: number;
  readonly #users = new Map<string, UserQueue<T>>();
  readonly #byId = new Map<string, T>();
  #ring: string[] = [];
  #cursor = 0;
  #inVisit = false;

  constructor(options: FairSchedulerOptions) {
    if (!(options.quantum > 0)) throw new TypeError(`Expected quantum to be a positive number, got ${options.quantum}`);
    this.#quantum = options.quantum;
  }

  get size(): number {
    return this.#byId.size;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  sizeOf(userKey: string): number {
    const queue = this.#users.get(userKey);
    return queue ? queue.items.length - queue.head : 0;
  }

  enqueue(item: T): void {
    if (this.#byId.has(item.id)) throw new Error(`Job ${item.id} is already queued`);
    if (!(item.cost > 0) || !Number.isFinite(item.cost)) {
      throw new TypeError(`Expected cost to be a positive finite number, got ${item.cost}`);
    }
    this.#byId.set(item.id, item);
    let queue = this.#users.get(item.userKey);
    if (!queue) {
      queue = { items: [], head: 0, deficit: 0 };
      this.#users.set(item.userKey, queue);
    }
    queue.items.push(item);
    if (queue.items.length - queue.head === 1) this.#joinRing(item.userKey);
  }

  /** Removes a waiting item (a cancelled job). */
  remove(id: string): T | undefined {
    const item = this.#byId.get(id);
    if (!item) return undefined;
    this.#byId.delete(id);
    const queue = this.#users.get(item.userKey)!;
    const index = queue.items.indexOf(item, queue.head);
    queue.items.splice(index, 1);
    if (queue.items.length === queue.head) this.#leaveRing(item.userKey);
    return item;
  }

  /**
   * Dequeues the next item in DRR order, charging its cost. A user whose oldest item `eligible` refuses (its cap
   * is reached, or no free backend serves that job) is passed over this time, keeping its place and credit.
   */
  next(eligible: (item: T) => boolean = () => true): T | undefined {
    const picked = this.#pick(this.#realView(), eligible);
    if (picked) {
      this.#byId.delete(picked.id);
      if (this.sizeOf(picked.userKey) === 0) this.#users.delete(picked.userKey);
    }
    return picked;
  }

  /** Gives a charged cost back (blocked, failed or cancelled work is free) while the user is still backlogged. */
  refund(userKey: string, cost: number): void {
    const queue = this.#users.get(userKey);
    if (queue && this.#ring.includes(userKey)) queue.deficit += cost;
  }

  /** Every waiting item in the order DRR would serve it if nothing else arrived. Does not change any state. */
  order(): T[] {
    const heads = new Map<string, number>();
    const deficits = new Map<string, number>();
    const users = this.#users;
    const view: DrrView<T> = {
      ring: [...this.#ring],
      cursor: this.#cursor,
      inVisit: this.#inVisit,
      headOf: (user) => {
        const queue = users.get(user)!;
        return queue.items[heads.get(user) ?? queue.head];
      },
      deficitOf: (user) => deficits.get(user) ?? users.get(user)!.deficit,
      setDeficit: (user, value) => void deficits.set(user, value),
      pop: (user) => {
        const queue = users.get(user)!;
        const head = (heads.get(user) ?? queue.head) + 1;
        heads.set(user, head);
        return head < queue.items.length;
      },
    };
    const result: T[] = [];
    for (let item = this.#pick(view, () => true); item; item = this.#pick(view, () => true)) result.push(item);
    return result;
  }

  #realView(): DrrView<T> {
    const self = this;
    return {
      get ring() {
        return self.#ring;
      },
      set ring(value: string[]) {
        self.#ring = value;
      },
      get cursor() {
        return self.#cursor;
      },
      set cursor(value: number) {
        self.#cursor = value;
      },
      get inVisit() {
        return self.#inVisit;
      },
      set inVisit(value: boolean) {
        self.#inVisit = value;
      },
      headOf: (user) => {
        const queue = this.#users.get(user)!;
        return queue.items[queue.head];
      },
      deficitOf: (user) => this.#users.get(user)!.deficit,
      setDeficit: (user, value) => {
        this.#users.get(user)!.deficit = value;
      },
      pop: (user) => {
        const queue = this.#users.get(user)!;
        queue.head += 1;
        // Compact now and then so a long-lived queue does not keep every served item alive.
        if (queue.head > 64 && queue.head * 2 > queue.items.length) {
          queue.items = queue.items.slice(queue.head);
          queue.head = 0;
        }
        return queue.head < queue.items.length;
      },
    };
  }

  #pick(view: DrrView<T>, eligible: (item: T) => boolean): T | undefined {
    const isEligible = (user: string): boolean => eligible(view.headOf(user)!);
    let visitsWithoutService = 0;
    while (view.ring.length > 0) {
      if (view.cursor >= view.ring.length) view.cursor = 0;
      const user = view.ring[view.cursor]!;
      if (!isEligible(user)) {
        view.inVisit = false;
        view.cursor += 1;
        if (++visitsWithoutService > view.ring.length && !view.ring.some(isEligible)) return undefined;
        continue;
      }
      if (!view.inVisit) {
        view.setDeficit(user, view.deficitOf(user) + this.#quantum);
        view.inVisit = true;
      }
      const head = view.headOf(user)!;
      const deficit = view.deficitOf(user);
      if (head.cost <= deficit + 1e-9) {
        view.setDeficit(user, deficit - head.cost);
        if (!view.pop(user)) {
          // The user's queue emptied: it leaves the round and forfeits its remaining credit.
          view.setDeficit(user, 0);
          view.ring = view.ring.filter((_, i) => i !== view.cursor);
          view.inVisit = false;
        }
        return head;
      }
      view.inVisit = false;
      view.cursor += 1;
      visitsWithoutService += 1;
      if (visitsWithoutService >= view.ring.length) {
        // A whole round served nothing: skip the further rounds in which no eligible user could afford its head.
        let rounds = Infinity;
        for (const u of view.ring) {
          if (!isEligible(u)) continue;
          rounds = Math.min(rounds, Math.ceil((view.headOf(u)!.cost - view.deficitOf(u)) / this.#quantum) - 1);
        }
        if (rounds === Infinity) return undefined;
        if (rounds > 0) {
          for (const u of view.ring) if (isEligible(u)) view.setDeficit(u, view.deficitOf(u) + rounds * this.#quantum);
        }
        visitsWithoutService = 0;
      }
    }
    return undefined;
  }

  #joinRing(userKey: string): void {
    // Join at the end of the current round: just before the user being visited now.
    if (this.#ring.length === 0) {
      this.#ring = [userKey];
      this.#cursor = 0;
      this.#inVisit = false;
      return;
    }
    if (this.#cursor >= this.#ring.length) this.#cursor = 0;
    this.#ring.splice(this.#cursor, 0, userKey);
    this.#cursor += 1;
  }

  #leaveRing(userKey: string): void {
    const index = this.#ring.indexOf(userKey);
    if (index < 0) return;
    this.#ring.splice(index, 1);
    if (index < this.#cursor) this.#cursor -= 1;
    else if (index === this.#cursor) this.#inVisit = false;
    const queue = this.#users.get(userKey);
    if (queue) {
      queue.deficit = 0;
      queue.items = [];
      queue.head = 0;
    }
    this.#users.delete(userKey);
  }
}
