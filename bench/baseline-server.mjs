#!/usr/bin/env node
// The bench's yardstick: a bare node:http server that answers one route with a fixed, pre-serialised body.
//
// bench/bench.mjs starts it as a separate process (pinned like understudy) and pipes it the exact body and
// content-type understudy returned, so the req/s ratio compares understudy's work per request (routing, contract
// validation, journaling) against the least a node:http server can do, on the same bytes. Modelled on the peers'
// servers/node-http.js.
//
// Usage: node bench/baseline-server.mjs PORT ROUTE CONTENT_TYPE [DELAY_MS] < body
// Prints `listening on http://127.0.0.1:PORT` once it accepts connections.

import http from 'node:http';

const [port, route, contentType, delayArg] = process.argv.slice(2);
const delayMs = Number(delayArg || 0);
if (!port || !route || !contentType || !Number.isFinite(delayMs)) {
  console.error('usage: node bench/baseline-server.mjs PORT ROUTE CONTENT_TYPE [DELAY_MS] < body');
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const body = Buffer.concat(chunks);
const headers = { 'content-type': contentType, 'content-length': body.length };

function send(res) {
  res.writeHead(200, headers);
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === route) {
    if (delayMs > 0) setTimeout(send, delayMs, res);
    else send(res);
  } else {
    res.writeHead(404);
    res.end();
  }
});

server.listen(Number(port), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
