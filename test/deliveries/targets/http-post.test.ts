/**
 * postJson against receivers that misbehave on real sockets: whatever they do, the result says what happened,
 * nothing throws, and no socket of ours outlives the attempt's deadline.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, MAX_RESPONSE_BODY_BYTES, parseRetryAfter, postJson } from '../../../src/deliveries/targets/http-post.js';
import { closedPort, httpSink, tcpSink } from './sinks.js';
import type { Agent } from 'node:http';

const agents: Agent[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.destroy();
});

function agentFor(url: URL, maxSockets = 4): Agent {
  const agent = createAgent(url, maxSockets);
  agents.push(agent);
  return agent;
}

async function closed(socket: Socket): Promise<void> {
  if (!socket.closed) await once(socket, 'close');
}

describe('postJson', () => {
  it('posts the body and returns status, headers and body', async () => {
    let seen: { headers: Record<string, unknown>; body: string } | undefined;
    const sink = await httpSink((req, res, body) => {
      seen = { headers: req.headers, body };
      res.writeHead(202, { 'content-type': 'application/json', 'x-receiver': 'ok' }).end('{"received":true}');
    });
    const result = await postJson(agentFor(sink.url), sink.url, '{"a":"é"}', { 'user-agent': 'test' }, 2000);
    expect(result).toMatchObject({ status: 202, body: '{"received":true}' });
    expect(result.error).toBeUndefined();
    expect(result.headers?.['x-receiver']).toBe('ok');
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen?.body).toBe('{"a":"é"}');
    expect(seen?.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'content-length': '10', 'user-agent': 'test' });
  });

  it('lets the caller set its own content type', async () => {
    let type: string | undefined;
    const sink = await httpSink((req, res) => {
      type = req.headers['content-type'];
      res.end();
    });
    await postJson(agentFor(sink.url), sink.url, 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' }, 2000);
    expect(type).toBe('application/x-www-form-urlencoded');
  });

  it('gives up on a receiver that never answers, and destroys the socket', async () => {
    const sink = await httpSink(() => {
      // holds the request forever
    });
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 200);
    expect(result).toMatchObject({ status: null, error: 'timeout' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(190);
    expect(sink.sockets).toHaveLength(1);
    await closed(sink.sockets[0]);
    expect(sink.open).toBe(0);
  });

  it('bounds connecting too: a TLS handshake that never completes times out', async () => {
    const sink = await tcpSink(() => {
      // reads the ClientHello and says nothing
    }, 'https');
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 200);
    expect(result).toMatchObject({ status: null, error: 'timeout' });
    await closed(sink.sockets[0]);
  });

  it('reports a reset connection by its code', async () => {
    const sink = await tcpSink((socket) => socket.resetAndDestroy());
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 2000);
    expect(result).toMatchObject({ status: null, error: 'ECONNRESET' });
  });

  it('reports a refused connection by its code', async () => {
    const url = await closedPort();
    const result = await postJson(agentFor(url), url, '{}', {}, 2000);
    expect(result).toMatchObject({ status: null, error: 'ECONNREFUSED' });
  });

  it('reports an answer that is not HTTP as a parse error', async () => {
    const sink = await tcpSink((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\nthis is not http\r\n\r\n'));
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 2000);
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/^HPE_/);
  });

  it('reports a connection closed in the middle of the body as no answer', async () => {
    const sink = await tcpSink((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part'));
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 2000);
    expect(result).toMatchObject({ status: null, error: 'ECONNRESET' });
  });

  it('does not follow a redirect', async () => {
    const paths: string[] = [];
    const sink = await httpSink((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(307, { location: '/elsewhere' }).end();
    });
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 2000);
    expect(result).toMatchObject({ status: 307, error: 'redirect to /elsewhere not followed' });
    expect(paths).toEqual(['/hook']);
  });

  it('keeps 64 KB of a 10 MB answer and stops reading the rest', async () => {
    const total = 10 * 1024 * 1024;
    let streamed: Promise<unknown> | undefined;
    const sink = await httpSink((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': total });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      streamed = pipeline(Readable.from((function* () { for (let sent = 0; sent < total; sent += chunk.length) yield chunk; })()), res).then(
        () => 'complete',
        () => 'cut off',
      );
    });
    const result = await postJson(agentFor(sink.url), sink.url, '{}', {}, 5000);
    expect(result.status).toBe(200);
    expect(result.error).toBeUndefined();
    expect(Buffer.byteLength(result.body ?? '')).toBe(MAX_RESPONSE_BODY_BYTES);
    // the client hung up: the receiver could not hand over its 10 MB
    expect(await streamed).toBe('cut off');
    await closed(sink.sockets[0]);
  });

  it('reads Retry-After in seconds and as an HTTP-date', async () => {
    let header = '';
    const sink = await httpSink((_req, res) => res.writeHead(429, { 'retry-after': header }).end());
    const agent = agentFor(sink.url);

    header = '7';
    expect(await postJson(agent, sink.url, '{}', {}, 2000)).toMatchObject({ status: 429, retryAfterMs: 7000 });

    header = new Date(Date.now() + 60_000).toUTCString();
    const dated = await postJson(agent, sink.url, '{}', {}, 2000);
    expect(dated.status).toBe(429);
    // the date has whole seconds and some ms passed: within a couple of seconds of a minute
    expect(dated.retryAfterMs).toBeGreaterThan(57_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('parses every Retry-After form and ignores nonsense', () => {
    const now = Date.UTC(1994, 10, 6, 8, 49, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(37_000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(37_000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', now)).toBe(37_000);
    expect(parseRetryAfter('Sat, 05 Nov 1994 08:49:37 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('never opens more sockets than the agent allows; the others wait for a free one', async () => {
    const held: Array<() => void> = [];
    let arrived: () => void = () => {};
    const sink = await httpSink((_req, res) => {
      held.push(() => res.end('ok'));
      arrived();
    });
    const agent = agentFor(sink.url, 2);
    const twoArrived = new Promise<void>((resolve) => (arrived = () => held.length === 2 && resolve()));
    const results = Array.from({ length: 5 }, () => postJson(agent, sink.url, '{}', {}, 2000));
    await twoArrived;
    // the three others are queued in the agent, not connecting
    expect(Object.values(agent.requests).flat()).toHaveLength(3);
    expect(sink.open).toBe(2);
    // answer one request at a time as each arrives on a freed (kept-alive) socket
    arrived = () => held.shift()?.();
    for (const release of held.splice(0)) release();
    const all = await Promise.all(results);
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sink.maxOpen).toBe(2);
    expect(sink.sockets).toHaveLength(2);
  });

  it('never throws, not even for a header Node refuses', async () => {
    const sink = await httpSink((_req, res) => res.end());
    const result = await postJson(agentFor(sink.url), sink.url, '{}', { 'x-bad': 'line\nbreak' }, 2000);
    expect(result).toMatchObject({ status: null, error: 'ERR_INVALID_CHAR' });
  });

  it('refuses an agent for a scheme it cannot serve', () => {
    expect(() => createAgent(new URL('ftp://example.com/'), 1)).toThrow(/not an http: or https: URL/);
    expect(() => createAgent(new URL('http://example.com/'), 0)).toThrow(/at least 1/);
  });
});
