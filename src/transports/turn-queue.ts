/**
 * Fairness for new connections: at most TURN_BUDGET requests are handled per turn of the event loop, the rest
 * wait here, first come first served, for the next turns.
 *
 * Why: since libuv 1.45 (Node 20) a listening socket accepts ONE connection per event-loop turn (libuv PR #3696,
 * "don't accept() connections in a loop"). When a server is saturated, each turn reads and answers every socket
 * that became ready, so a turn lasts as long as it takes to serve all busy connections (10-20 ms with 1,000 of
 * them), and a thousand clients connecting at once wait in the kernel's accept queue for 10-20 s, sending requests
 * nobody reads (measured: 1,000 keep-alive connections, p99 ~19 s, requests unanswered after 30 s). Bare node:http
 * behaves the same. Answering a bounded number of requests per turn keeps turns short, so the listening socket
 * comes round often (thousands of accepts per second) and admin probes are read at once, at the cost of one
 * queue push per request past the budget. Below saturation nothing waits: a request is handled as it arrives.
 *
 * Requests past the budget, and every request that arrives while others wait, join the queue; a setImmediate
 * (which runs at the end of the current turn, after the poll phase has read the sockets) works off TURN_BUDGET of
 * them per turn, so queued requests keep their order ahead of later arrivals.
 */

/** Requests answered per event-loop turn before the rest wait for the next turn. */
export const TURN_BUDGET = 32;
/**
 * The budget of a turn that follows one in which a connection was accepted: while clients queue up to connect
 * (each turn accepts one), short turns let them in fast; once nobody new arrives, turns grow back.
 */
export const TURN_BUDGET_WHILE_CONNECTING = 4;

export class TurnQueue<T> {
  private readonly waiting: T[] = [];
  private head = 0;
  /** requests handled in the current turn */
  private handled = 0;
  private turnEnding = false;
  private budget = TURN_BUDGET;
  /** a connection was accepted in this turn */
  private connected = false;

  constructor(private readonly run: (item: T) => void) {}

  /** Runs `item` now if this turn has budget left and nobody is waiting; else queues it. */
  admit(item: T): void {
    if (this.head === this.waiting.length && this.handled < this.budget) {
      this.handled++;
      this.endTurnLater();
      this.run(item);
      return;
    }
    this.waiting.push(item);
    this.endTurnLater();
  }

  /** The server accepted a connection (its 'connection' event). */
  connection(): void {
    this.connected = true;
    this.endTurnLater();
  }

  /** how many requests wait (for tests and diagnostics) */
  get length(): number {
    return this.waiting.length - this.head;
  }

  private endTurnLater(): void {
    if (this.turnEnding) return;
    this.turnEnding = true;
    setImmediate(this.endTurn);
  }

  /** End of a turn: a fresh budget, spent first on those who waited. */
  private readonly endTurn = (): void => {
    this.turnEnding = false;
    this.handled = 0;
    this.budget = this.connected ? TURN_BUDGET_WHILE_CONNECTING : TURN_BUDGET;
    this.connected = false;
    while (this.head < this.waiting.length && this.handled < this.budget) {
      const item = this.waiting[this.head];
      this.waiting[this.head++] = undefined as T;
      this.handled++;
      this.run(item);
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    // still waiting, or budget spent this turn, or a shortened turn: the next turn starts with a fresh budget
    if (this.handled > 0 || this.budget !== TURN_BUDGET) this.endTurnLater();
  };
}
