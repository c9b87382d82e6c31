#!/usr/bin/env node
// The bench's yardstick: a bare node:http server that answers one route with a fixed, pre-serialised body.
//
// bench/bench.mjs starts it as a separate process (pinned like understudy) and pipes it the exact body and
// content-type understudy returned, so the req/s ratio compares understudy's work per request (routing, contract
// validation, journaling) against the least a node:http server can do, on the same bytes. Modelled on the peers'
// servers/node-http.js.
//
// For a write scenario it answers METHOD (e.g. POST) on the route with STATUS (e.g. 201), once it has read the
// request's body (any body: it does not look at it), so that a write's cost is compared with the least a node:http
// server does to receive a body and answer.
//
// Usage: node bench/baseline-server.mjs PORT ROUTE CONTENT_TYPE [DELAY_MS [METHOD [STATUS]]] < body
// Prints `listening on http://127.0.0.1:PORT` once it accepts connections.

import http from 'node:http';

const USAGE = 'usage: node bench/baseline-server.mjs PORT ROUTE CONTENT_TYPE [DELAY_MS [METHOD [STATUS]]] < body';
const [port, route, contentType, delayArg, methodArg, statusArg] = process.argv.slice(2);
const delayMs = Number(delayArg || 0);
const method = (methodArg || 'GET').toUpperCase();
const status = Number(statusArg || 200);
if (!port || !route || !contentType || !Number.isFinite(delayMs) || !Number.isInteger(status)) {
  console.error(USAGE);
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const body = Buffer.concat(chunks);
const headers = { 'content-type': contentType, 'content-length': body.length };

function send(res) {
  res.writeHead(status, headers);
  res.end(body);
}

function answer(res) {
  if (delayMs > 0) setTimeout(send, delayMs, res);
  else send(res);
}

const server = http.createServer((req, res) => {
  if (req.method === method && req.url === route) {
    if (method === 'GET') answer(res);
    else {
      req.on('data', () => {});
      req.on('end', () => answer(res));
    }
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
