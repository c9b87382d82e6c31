// What the memory benches (bench/memory.mjs, bench/payments-memory.mjs) share: a JSON request over a kept-alive
// agent, a fixed number of tasks run a few at a time, and the columns they print.
import http from 'node:http';

const MB = 1024 * 1024;

/** A request with an optional JSON body; resolves with the status and the body (parsed when it is JSON). */
export function send(url, agent, method, route, body, headers = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const sent = payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } : headers;
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${route}`, { method, agent, headers: sent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs task(0) ... task(count - 1), `concurrency` at a time. */
export async function runConcurrent(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function pad(value, width) {
  return String(value).padStart(width);
}

export function mb(bytes, width) {
  return pad((bytes / MB).toFixed(1), width);
}
