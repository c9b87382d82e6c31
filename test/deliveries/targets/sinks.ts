/**
 * Local receivers for delivery tests: real sockets on port 0 that misbehave on purpose (never answer, reset, speak
 * garbage, redirect, answer 10 MB). Each counts the connections it holds open, so that tests can see sockets being
 * released or limited, and every one started is closed after each test.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach } from 'vitest';

export interface Sink {
  url: URL;
  /** connections currently open, and the most that were open at once */
  open: number;
  maxOpen: number;
  /** every server-side socket, in the order accepted */
  sockets: Socket[];
  /** resolves when the next connection is accepted */
  nextConnection(): Promise<Socket>;
}

const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function track(server: Server | ReturnType<typeof createTcpServer>, scheme: 'http' | 'https'): Promise<Sink> {
  const sink: Sink = { url: new URL('http://127.0.0.1'), open: 0, maxOpen: 0, sockets: [], nextConnection: () => once(server, 'connection').then(([s]) => s as Socket) };
  server.on('connection', (socket: Socket) => {
    sink.sockets.push(socket);
    sink.open++;
    sink.maxOpen = Math.max(sink.maxOpen, sink.open);
    socket.on('close', () => sink.open--);
  });
  closers.push(async () => {
    for (const socket of sink.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      sink.url = new URL(`${scheme}://127.0.0.1:${address.port}/hook`);
      resolve(sink);
    });
  });
}

/** An HTTP receiver; `handle` gets the request with its body read in full. */
export function httpSink(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Sink> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return track(server, 'http');
}

/** A raw TCP receiver: `onData` sees the request's first bytes and the socket, to answer anything or nothing. */
export function tcpSink(onData: (socket: Socket, data: Buffer) => void, scheme: 'http' | 'https' = 'http'): Promise<Sink> {
  const server = createTcpServer((socket) => socket.once('data', (data: Buffer) => onData(socket, data)));
  return track(server, scheme);
}

/** A port nothing listens on: a server is started on port 0 and closed again. */
export async function closedPort(): Promise<URL> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return new URL(`http://127.0.0.1:${port}/hook`);
}
