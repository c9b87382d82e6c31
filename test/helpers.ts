/** Shared test plumbing: servers on port 0 (real sockets), closed after each test file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../src/server.js';

const running: RunningServer[] = [];

afterAll(async () => {
  await Promise.all(running.splice(0).map((s) => s.close(100)));
});

export async function start(options: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, ...options });
  running.push(server);
  return server;
}

export const VENDOR_CONTRACT = new URL('./fixtures/vendor.openapi.yaml', import.meta.url).pathname;

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** fetch that also reads the body (JSON when it parses). */
export async function call(url: string, init: RequestInit = {}): Promise<JsonResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body, text };
}

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/**
 * A request with the path sent exactly as given: fetch normalizes "..", "%2e%2e" and friends away, which would
 * hide the very inputs a traversal test needs to send.
 */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer } = {},
): Promise<JsonResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers, body, text });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const ROOT = new URL('..', import.meta.url).pathname;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

/**
 * `understudy serve` as its own process on a data directory (for kill -9 tests): resolves once it listens, with
 * its URL. `args` are more command-line options (`--config FILE`). The caller kills it.
 */
export function serveProcess(dir: string, seed: number, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--data-dir', dir, '--seed', String(seed), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: tmpdir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], exited });
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${stderr}`)));
  });
}

/** the environment without the caller's UNDERSTUDY_* variables, so a developer's own settings do not leak in */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UNDERSTUDY_')));

/** `understudy ARGS` as its own process, from the checkout, with `env` over a clean environment. */
export function cliProcess(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The process's exit code and everything it wrote. */
export async function processOutcome(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** What a request on a connection of its own came to (sendRaw): never thrown. */
export interface RawOutcome {
  /** 0 when no response head arrived */
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  text: string;
  /** what went wrong below HTTP: ECONNRESET, ABORT_ERR (the caller gave up) ... */
  error?: string;
}

/**
 * Sends one request on a connection of its own (so a reset or a held connection touches that request alone, and
 * no client-side pool keeps timers of its own) and resolves with what came of it: status, headers and text, or the
 * error below HTTP. Never rejects.
 */
export function sendRaw(
  base: string,
  path: string,
  body: string,
  headers: Record<string, string>,
  options: { signal?: AbortSignal; method?: string } = {},
): Promise<RawOutcome> {
  const method = options.method ?? 'POST';
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let responseHeaders: import('node:http').IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const finish = (error?: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      resolve({ status, headers: responseHeaders, text: Buffer.concat(chunks).toString('utf8'), ...(error ? { error: error.code ?? error.message } : {}) });
    };
    const req = httpRequest(`${base}${path}`, { method, agent: false, headers, signal: options.signal }, (res) => {
      status = res.statusCode ?? 0;
      responseHeaders = res.headers;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish());
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(res.complete ? undefined : Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    });
    req.on('error', (err) => finish(err));
    req.end(method === 'GET' ? undefined : body);
  });
}
