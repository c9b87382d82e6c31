/**
 * Reservation expiry: real warehouse holds lapse when an order never ships (`systems.wms.reservationTtl`).
 *
 * There is no timer. Each hold's deadline is queued when it starts, and the state's catchUp() expires every
 * hold whose deadline has passed before it handles a request, oldest deadline first, stamping each expiry at its
 * deadline. The result is therefore a function of the writes and their clock times only: a read in between
 * changes when the work is done, not what it does.
 *
 * Deadlines are handed out as stamp + TTL, and stamps never go backwards, so they arrive in order and a FIFO
 * is a priority queue here. A hold that ends otherwise (released, or a shipment started) leaves its entry behind;
 * such entries are skipped when they come up, and dropped in bulk once they are half the queue, so the queue
 * stays proportional to the holds that can still expire.
 */
import { releaseStock } from './allocation.js';
import { COMPACT_AFTER, PairQueue, type PairQueueData } from './record-table.js';
import type { StoredReservation, WmsState } from './state.js';

/** The queue as plain data (snapshot.ts). */
export interface ReservationExpiryData {
  queue: PairQueueData;
  abandoned: number;
}

export class ReservationExpiry {
  /** entries in the queue whose hold has ended otherwise */
  private abandoned = 0;

  constructor(
    private readonly state: WmsState,
    /** (reservation number, deadline), deadlines non-decreasing */
    private readonly queue = new PairQueue(),
  ) {}

  toData(): ReservationExpiryData {
    return { queue: this.queue.toData(), abandoned: this.abandoned };
  }

  /** The queue toData() described, for `state`; throws when the data contradicts itself. */
  static fromData(state: WmsState, data: ReservationExpiryData): ReservationExpiry {
    const expiry = new ReservationExpiry(state, PairQueue.fromData(data.queue));
    if (!Number.isSafeInteger(data.abandoned) || data.abandoned < 0) throw new Error(`reservation expiry: bad abandoned count ${data.abandoned}`);
    expiry.abandoned = data.abandoned;
    return expiry;
  }

  schedule(reservationIndex: number, deadline: number): void {
    this.queue.push(reservationIndex, deadline);
  }

  /** A queued hold has ended without expiring. */
  abandon(): void {
    this.abandoned++;
    if (this.abandoned > COMPACT_AFTER && this.abandoned * 2 > this.queue.length) {
      this.queue.retain((index, deadline) => this.holdFor(index, deadline) !== undefined);
      this.abandoned = 0;
    }
  }

  /** The earliest deadline still pending, or undefined. */
  nextDue(): number | undefined {
    for (;;) {
      const index = this.queue.firstA();
      if (index === undefined) return undefined;
      const deadline = this.queue.firstB()!;
      if (this.holdFor(index, deadline) !== undefined) return deadline;
      this.queue.shift();
      if (this.abandoned > 0) this.abandoned--;
    }
  }

  /** Expires the hold nextDue() returned: its units go back to available, the reservation says `expired`. */
  expireNext(): void {
    const index = this.queue.firstA()!;
    const deadline = this.queue.firstB()!;
    this.queue.shift();
    const reservation = this.holdFor(index, deadline)!;
    const state = this.state;
    const at = state.stamp(deadline);
    releaseStock(state, reservation.allocations, at);
    reservation.status = 'expired';
    state.touchReservation(reservation, at);
    state.retireReservation(reservation);
  }

  /** The reservation when this entry is its current deadline and it can still expire. */
  private holdFor(index: number, deadline: number): StoredReservation | undefined {
    const reservation = this.state.reservations.get(index);
    if (reservation === undefined || reservation.status !== 'active' || reservation.expiresAt !== deadline) return undefined;
    return reservation;
  }
}
