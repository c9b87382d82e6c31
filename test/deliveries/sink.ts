/**
 * A webhook receiver for tests: a real HTTP server on port 0 that records every request (raw body, headers, the
 * time it arrived) and answers what the test says. Tests wait for what they expect to arrive (waitFor), never for
 * time to pass. Sinks close after the test file.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

/** every sink a test file started, closed after the file */
const started: Sink[] = [];
afterAll(() => Promise.all(started.splice(0).map((s) => s.close())));

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** the body parsed (events are JSON) */
  event: { id: string; type: string; created: string; system: string; data: any };
  /** Date.now() on arrival */
  at: number;
}

/** a status, a full answer, or 'hang': never answer (the socket is destroyed when the sink closes) */
export type Answer = number | 'hang' | { status: number; headers?: Record<string, string>; body?: string };

export class Sink {
  readonly received: Received[] = [];
  /** how to answer the nth request (from 0) */
  answer: (request: Received, n: number) => Answer = () => 200;
  private waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks'): Promise<Sink> {
    let sink: Sink | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event: Received['event'];
        try {
          event = JSON.parse(body);
        } catch {
          event = { id: '', type: '', created: '', system: '', data: null };
        }
        const received: Received = { path: req.url ?? '', headers: req.headers, body, event, at: Date.now() };
        const n = sink!.received.length;
        sink!.received.push(received);
        const answer = sink!.answer(received, n);
        if (answer === 'hang') return sink!.check();
        const { status, headers, body: out } = typeof answer === 'number' ? { status: answer, headers: {}, body: '' } : answer;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(out ?? '{}');
        sink!.check();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sink = new Sink(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    started.push(sink);
    return sink;
  }

  /** resolves once `test` holds (checked after every request) */
  waitFor(test: (received: Received[]) => boolean, what = 'the expected deliveries'): Promise<void> {
    if (test(this.received)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sink never saw ${what} (got ${this.received.length} requests)`)), 20_000);
      this.waiters.push({
        test: () => test(this.received),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
