#!/usr/bin/env node
// Replays the Dockerfile without Docker, so that a broken image recipe fails CI on machines without a Docker engine.
//
// Each stage's filesystem root becomes a temp directory (/app in stage `runtime` -> <tmp>/runtime/app). The
// interpreter understands FROM [AS], WORKDIR, COPY (build context with .dockerignore applied, or --from=stage), RUN
// (bash, in the mapped working directory), ENV, USER, EXPOSE, HEALTHCHECK and CMD, and fails on anything else. The
// base image itself is not replicated: the host's node stands in for the image's node. RUN steps must not use
// absolute paths, because they run on the host.
//
// After the build it checks the final stage (no devDependencies installed, no admin token baked in, the exposed
// port is the one the server is told to use) and runs it as the container would: stage ENV, a free UNDERSTUDY_PORT,
// and, when CI runs as root, an unprivileged user that does not own the files, as USER does in the image. CMD must
// refuse to start without UNDERSTUDY_ADMIN_TOKEN (the image listens on 0.0.0.0); with a generated token, HEALTHCHECK
// must pass within the deadline, fail with a wrong token, /__admin/health must answer 401 without the token, the
// server must be reachable on a non-loopback address, and after SIGTERM it must exit 0.
//
// Before the build it also reads docker-compose.yml, when there is one: it must parse, build its services from this
// Dockerfile, and mount files that exist (there is no compose engine here either).
//
// Usage: node .ci/dockerfile-dry-run.mjs   (env: DRY_RUN_DEADLINE_S=30, DRY_RUN_KEEP=1 keeps the temp directory)

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCKERFILE = path.join(REPO, 'Dockerfile');
const HEALTH_DEADLINE_MS = Number(process.env.DRY_RUN_DEADLINE_S || 30) * 1000;
const STOP_DEADLINE_MS = 10_000;
const started = Date.now();

class DryRunError extends Error {}
const fail = (message) => {
  throw new DryRunError(message);
};
const log = (message) => console.log(`[dry-run +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves to the promise's value, or to null when it has not settled within `ms` (the timer does not linger). */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, null)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile text -> instructions

/** Splits the file into instructions, joining `\` continuations and dropping comments. */
function readInstructions(text) {
  const instructions = [];
  const lines = text.split(/\r?\n/);
  let pending = null; // { line, text }
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (/^#\s*escape\s*=/i.test(trimmed) && instructions.length === 0 && !pending) {
      if (!/^#\s*escape\s*=\s*\\\s*$/i.test(trimmed)) fail(`Dockerfile:${i + 1}: only the default escape character \\ is supported`);
      continue;
    }
    if (trimmed.startsWith('#') || trimmed === '') continue; // also inside continuations, as Docker does
    const continued = /\\\s*$/.test(raw);
    const part = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (pending) pending.text += ' ' + part.trim();
    else pending = { line: i + 1, text: part.trim() };
    if (!continued) {
      const match = /^(\S+)\s*(.*)$/s.exec(pending.text);
      instructions.push({ line: pending.line, keyword: match[1].toUpperCase(), args: match[2].trim(), source: pending.text });
      pending = null;
    }
  }
  if (pending) fail(`Dockerfile:${pending.line}: the file ends inside a line continuation`);
  return instructions;
}

/** Leading `--name=value` flags of an instruction, checked against the names the instruction accepts. */
function takeFlags(ins, allowed) {
  const flags = {};
  let rest = ins.args;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!match) break;
    if (!allowed.includes(match[1])) fail(`Dockerfile:${ins.line}: ${ins.keyword} flag --${match[1]} is not supported by the dry run`);
    flags[match[1]] = match[2] ?? '';
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** Exec form (JSON array of strings) or shell form, as Docker decides it. */
function commandForm(text) {
  if (text.startsWith('[')) {
    try {
      const argv = JSON.parse(text);
      if (Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string')) return { exec: argv };
    } catch {
      // not JSON: Docker treats it as shell form, and so do we
    }
  }
  return { shell: text };
}

/** Docker's variable substitution: $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alternative}, \$ for a literal $. */
function expand(text, env, where) {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}/g, (all, name, op, word, bare) => {
    if (all === '\\$') return '$';
    if (bare) return env[bare] ?? '';
    if (!name) fail(`${where}: unsupported variable substitution ${all}`);
    const value = env[name];
    if (op === '-') return value ? value : word;
    if (op === '+') return value ? word : '';
    return value ?? '';
  });
}

/** Splits `a=b c="d e"` respecting quotes and backslashes (ENV). */
function splitWords(text, where) {
  const words = [];
  let current = null;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (/\s/.test(c)) {
      if (current !== null) words.push(current);
      current = null;
    } else {
      current ??= '';
      if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < text.length) current += text[++i];
      else current += c;
    }
  }
  if (quote) fail(`${where}: unterminated quote`);
  if (current !== null) words.push(current);
  return words;
}

function parseDuration(text, where) {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let match;
  let consumed = 0;
  while ((match = re.exec(text))) {
    ms += Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2]];
    consumed = re.lastIndex;
  }
  if (!text || consumed !== text.length) fail(`${where}: cannot read duration "${text}"`);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
// Build context and .dockerignore

function globToRegExp(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function loadDockerignore() {
  const file = path.join(REPO, '.dockerignore');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const cleaned = path.posix.normalize(negate ? l.slice(1).trim() : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegExp(cleaned), text: l };
    });
}

const ignorePatterns = loadDockerignore();

/** True when .dockerignore keeps `rel` (a context-relative posix path) out of the build context. */
function isIgnored(rel) {
  const candidates = [];
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) candidates.push(parts.slice(0, i).join('/'));
  let ignored = false;
  for (const p of ignorePatterns) if (candidates.some((c) => p.re.test(c))) ignored = !p.negate;
  return ignored;
}

/** Expands one COPY source (possibly with * ? wildcards) against a directory tree. */
function resolveSources(baseDir, source, filter) {
  const segments = source.split('/').filter((s) => s && s !== '.');
  let matches = [''];
  for (const segment of segments) {
    const next = [];
    for (const rel of matches) {
      const dir = path.join(baseDir, rel);
      if (!/[*?[]/.test(segment)) {
        if (fs.existsSync(path.join(dir, segment))) next.push(rel ? `${rel}/${segment}` : segment);
        continue;
      }
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
      const re = globToRegExp(segment);
      for (const name of fs.readdirSync(dir).sort()) if (re.test(name)) next.push(rel ? `${rel}/${name}` : name);
    }
    matches = next;
  }
  return matches.filter((rel) => rel === '' || filter(rel));
}

// ---------------------------------------------------------------------------------------------------------------
// Stages

/** Environment of processes started "inside" a stage: the host's, minus what a clean image would not have. */
function baseEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_ENV$|INIT_CWD$|UNDERSTUDY_)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`;
  return env;
}

/** A container path (absolute, or relative to the stage's WORKDIR) mapped into the stage's temp root. */
function hostPath(stage, containerPath) {
  const absolute = path.posix.resolve(stage.workdir, containerPath);
  return path.join(stage.root, absolute);
}

/** Uid/gid to run a stage's processes as: USER from the host's passwd when CI runs as root, else ourselves. */
function runIdentity(stage) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const [name] = stage.user.split(':');
  if (name === 'root' || name === '0') return null;
  const passwd = fs.existsSync('/etc/passwd') ? fs.readFileSync('/etc/passwd', 'utf8').split('\n') : [];
  const entry = passwd.map((l) => l.split(':')).find((f) => f[0] === name || f[2] === name);
  const identity = entry
    ? { uid: Number(entry[2]), gid: Number(entry[3]), home: entry[5], label: `${name} (uid ${entry[2]})` }
    : { uid: 65534, gid: 65534, home: '/nonexistent', label: `nobody (uid 65534; no "${name}" user on this host)` };
  const probe = spawnSync(process.execPath, ['-e', '0'], { uid: identity.uid, gid: identity.gid, cwd: '/' });
  if (probe.status !== 0) {
    log(`note: ${identity.label} cannot run ${process.execPath}; processes of USER ${stage.user} run as root instead`);
    return null;
  }
  return identity;
}

/** Exec-form argv with the image's `node` replaced by the host's, and absolute image paths mapped into the stage. */
function hostArgv(stage, argv) {
  return argv.map((arg, i) => {
    if (i === 0 && arg === 'node') return process.execPath;
    if (arg.startsWith('/')) {
      const mapped = path.join(stage.root, arg);
      if (fs.existsSync(mapped)) return mapped;
    }
    return arg;
  });
}

function forbidAbsolutePaths(ins, text) {
  const match = /(?:^|[\s='"(;&|])(\/[A-Za-z0-9_.-][^\s'";&|)]*)/.exec(text);
  if (match) {
    fail(`Dockerfile:${ins.line}: RUN uses the absolute path ${match[1]}; the dry run executes RUN on this host, ` +
      'so keep RUN steps relative to WORKDIR');
  }
}

function buildStages(instructions, runRoot) {
  const stages = [];
  let stage = null;
  const requireStage = (ins) => stage ?? fail(`Dockerfile:${ins.line}: ${ins.keyword} before the first FROM`);

  for (const ins of instructions) {
    const where = `Dockerfile:${ins.line}`;
    if (ins.keyword !== 'FROM') requireStage(ins);
    const env = () => ({ ...baseEnv(), ...stage.env });
    switch (ins.keyword) {
      case 'FROM': {
        const { flags, rest } = takeFlags(ins, ['platform']);
        const match = /^(\S+)(?:\s+AS\s+([A-Za-z][A-Za-z0-9_.-]*))?$/i.exec(rest);
        if (!match) fail(`${where}: cannot read FROM ${ins.args}`);
        const [, image, alias] = match;
        const name = (alias ?? String(stages.length)).toLowerCase();
        const root = path.join(runRoot, name);
        const parent = stages.find((s) => s.name === image.toLowerCase());
        stage = { name, index: stages.length, root, workdir: '/', env: {}, user: 'root', expose: [], volumes: [], healthcheck: null, cmd: null };
        fs.mkdirSync(root, { recursive: true });
        if (parent) {
          fs.cpSync(parent.root, root, { recursive: true, verbatimSymlinks: true });
          Object.assign(stage, { workdir: parent.workdir, env: { ...parent.env }, user: parent.user, expose: [...parent.expose], healthcheck: parent.healthcheck, cmd: parent.cmd });
          log(`${where} stage "${name}" starts from stage "${parent.name}" -> ${root}`);
        } else {
          log(`${where} stage "${name}" from image ${image}${flags.platform ? ` (platform ${flags.platform} noted)` : ''} -> ${root}`);
          const nodeTag = /^node:(\d+)/.exec(image);
          const hostMajor = process.versions.node.split('.')[0];
          if (nodeTag && nodeTag[1] !== hostMajor) {
            log(`WARNING: the image has node ${nodeTag[1]} but this host runs node ${process.versions.node}; the dry run uses the host's`);
          } else if (nodeTag) {
            log(`  base image filesystem not replicated; host node ${process.versions.node} stands in for the image's node ${nodeTag[1]}`);
          }
        }
        stages.push(stage);
        break;
      }
      case 'WORKDIR': {
        stage.workdir = path.posix.resolve(stage.workdir, expand(ins.args, env(), where));
        fs.mkdirSync(hostPath(stage, '.'), { recursive: true });
        log(`${where} ${stage.name} | WORKDIR ${stage.workdir} -> ${hostPath(stage, '.')}`);
        break;
      }
      case 'ENV': {
        // every value is expanded with the environment from before this instruction, as Docker does
        const words = splitWords(ins.args, where);
        const pairs = [];
        if (words.length > 0 && !words[0].includes('=')) {
          const match = /^(\S+)\s+(.*)$/s.exec(ins.args.trim()) ?? fail(`${where}: ENV needs a value`);
          pairs.push([match[1], expand(match[2], env(), where)]);
        } else {
          for (const word of words) {
            const eq = word.indexOf('=');
            if (eq <= 0) fail(`${where}: cannot read ENV entry "${word}"`);
            pairs.push([word.slice(0, eq), expand(word.slice(eq + 1), env(), where)]);
          }
        }
        for (const [key, value] of pairs) stage.env[key] = value;
        log(`${where} ${stage.name} | ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        break;
      }
      case 'COPY': {
        const { flags, rest } = takeFlags(ins, ['from', 'chown', 'chmod', 'link']);
        const form = commandForm(rest);
        const words = form.exec ?? rest.split(/\s+/).filter(Boolean);
        if (words.length < 2) fail(`${where}: COPY needs at least one source and a destination`);
        const expanded = words.map((w) => expand(w, env(), where));
        const destination = expanded.pop();
        let baseDir = REPO;
        let filter = (rel) => !isIgnored(rel);
        let origin = 'build context';
        if (flags.from !== undefined) {
          const from = stages.find((s) => s.name === flags.from.toLowerCase() || String(s.index) === flags.from);
          if (!from || from === stage) fail(`${where}: COPY --from=${flags.from} names no earlier stage (copying from images is not supported)`);
          baseDir = from.root;
          filter = () => true;
          origin = `stage "${from.name}"`;
        }
        const sources = [];
        for (const source of expanded) {
          const cleaned = path.posix.normalize(source).replace(/^\/+/, '');
          if (flags.from === undefined && (cleaned === '..' || cleaned.startsWith('../'))) fail(`${where}: COPY source ${source} is outside the build context`);
          const found = resolveSources(baseDir, cleaned, filter);
          if (found.length === 0) fail(`${where}: COPY source "${source}" not found in the ${origin}${flags.from === undefined ? ' (or excluded by .dockerignore)' : ''}`);
          sources.push(...found.map((rel) => (flags.from === undefined ? rel : `/${rel}`)));
        }
        const destIsDir = destination.endsWith('/') || sources.length > 1;
        const target = hostPath(stage, destination);
        for (const rel of sources) {
          const from = path.join(baseDir, rel.replace(/^\//, ''));
          const isDir = fs.statSync(from).isDirectory();
          let to = target;
          if (!isDir && (destIsDir || (fs.existsSync(target) && fs.statSync(target).isDirectory()))) to = path.join(target, path.basename(from));
          fs.mkdirSync(isDir ? to : path.dirname(to), { recursive: true });
          fs.cpSync(from, to, {
            recursive: true,
            verbatimSymlinks: true,
            filter: (src) => baseDir !== REPO || src === from || !isIgnored(path.relative(REPO, src).split(path.sep).join('/')),
          });
        }
        const notes = ['chown', 'chmod', 'link'].filter((f) => flags[f] !== undefined).map((f) => ` (--${f} noted, not applied)`).join('');
        log(`${where} ${stage.name} | COPY ${sources.join(' ')} from the ${origin} -> ${target}${notes}`);
        break;
      }
      case 'RUN': {
        const { rest } = takeFlags(ins, []);
        const form = commandForm(rest);
        const argv = form.exec ? hostArgv(stage, form.exec) : ['bash', '-c', form.shell];
        forbidAbsolutePaths(ins, form.exec ? form.exec.slice(1).join(' ') : form.shell);
        const identity = runIdentity(stage);
        const cwd = hostPath(stage, '.');
        fs.mkdirSync(cwd, { recursive: true });
        log(`${where} ${stage.name} | RUN ${form.exec ? JSON.stringify(form.exec) : form.shell}   (in ${cwd}${identity ? ` as ${identity.label}` : ''})`);
        const result = spawnSync(argv[0], argv.slice(1), {
          cwd,
          env: { ...env(), ...(identity ? { HOME: identity.home } : {}) },
          stdio: 'inherit',
          ...(identity ? { uid: identity.uid, gid: identity.gid } : {}),
        });
        if (result.error) fail(`${where}: RUN could not start: ${result.error.message}`);
        if (result.status !== 0) fail(`${where}: RUN exited with ${result.status ?? result.signal}: ${ins.args}`);
        break;
      }
      case 'USER': {
        stage.user = expand(ins.args, env(), where);
        if (!stage.user || /\s/.test(stage.user)) fail(`${where}: cannot read USER ${ins.args}`);
        log(`${where} ${stage.name} | USER ${stage.user} (noted)`);
        break;
      }
      case 'EXPOSE': {
        for (const word of expand(ins.args, env(), where).split(/\s+/)) {
          const match = /^(\d+)(?:\/(tcp|udp))?$/.exec(word) ?? fail(`${where}: cannot read EXPOSE ${word}`);
          stage.expose.push(Number(match[1]));
        }
        log(`${where} ${stage.name} | EXPOSE ${stage.expose.join(' ')} (noted)`);
        break;
      }
      case 'VOLUME': {
        for (const word of expand(ins.args, env(), where).replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean)) {
          const volume = word.replace(/^"|"$/g, '');
          if (!volume.startsWith('/')) fail(`${where}: VOLUME ${volume} must be an absolute path`);
          fs.mkdirSync(path.join(stage.root, volume), { recursive: true });
          stage.volumes.push(volume);
        }
        log(`${where} ${stage.name} | VOLUME ${stage.volumes.join(' ')} (mapped into the stage root)`);
        break;
      }
      case 'HEALTHCHECK': {
        const { flags, rest } = takeFlags(ins, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
        if (/^NONE$/i.test(rest)) {
          stage.healthcheck = null;
          log(`${where} ${stage.name} | HEALTHCHECK NONE`);
          break;
        }
        const match = /^CMD\s+(.*)$/is.exec(rest) ?? fail(`${where}: HEALTHCHECK must be NONE or CMD ...`);
        const options = {};
        for (const key of ['interval', 'timeout', 'start-period', 'start-interval']) if (flags[key] !== undefined) options[key] = parseDuration(flags[key], where);
        if (flags.retries !== undefined && !/^\d+$/.test(flags.retries)) fail(`${where}: --retries must be a number`);
        stage.healthcheck = { ...commandForm(match[1].trim()), timeoutMs: options.timeout ?? 30_000, line: ins.line };
        log(`${where} ${stage.name} | HEALTHCHECK ${Object.entries(flags).map(([k, v]) => `--${k}=${v} `).join('')}CMD ${stage.healthcheck.exec ? '[exec form]' : match[1]}`);
        break;
      }
      case 'CMD': {
        stage.cmd = { ...commandForm(ins.args), line: ins.line };
        log(`${where} ${stage.name} | CMD ${ins.args}`);
        break;
      }
      default:
        fail(`${where}: instruction ${ins.keyword} is not understood by the dry run (it knows FROM, WORKDIR, COPY, RUN, ENV, USER, EXPOSE, VOLUME, HEALTHCHECK, CMD)`);
    }
  }
  if (stages.length === 0) fail('Dockerfile has no FROM');
  return stages;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks on the final stage

function checkProductionInstall(stage) {
  const appDir = hostPath(stage, '.');
  const lockFile = path.join(appDir, 'package-lock.json');
  if (!fs.existsSync(lockFile)) fail(`final stage has no package-lock.json in WORKDIR ${stage.workdir}`);
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8'));
  const packages = Object.entries(lock.packages ?? {}).filter(([key]) => key.startsWith('node_modules/'));
  const devOnly = packages.filter(([, entry]) => entry.dev).map(([key]) => key);
  const present = devOnly.filter((key) => fs.existsSync(path.join(appDir, key)));
  if (present.length > 0) fail(`final stage has development-only packages installed: ${present.slice(0, 10).join(', ')}${present.length > 10 ? ` and ${present.length - 10} more` : ''}`);
  for (const name of Object.keys(pkg.devDependencies ?? {})) {
    const isAlsoProd = packages.some(([key, entry]) => key === `node_modules/${name}` && !entry.dev);
    if (!isAlsoProd && fs.existsSync(path.join(appDir, 'node_modules', name))) fail(`final stage has devDependency ${name} installed`);
  }
  const missing = Object.keys(pkg.dependencies ?? {}).filter((name) => !fs.existsSync(path.join(appDir, 'node_modules', name)));
  if (missing.length > 0) fail(`final stage lacks production dependencies: ${missing.join(', ')}`);
  log(`check: production install only: ${Object.keys(pkg.dependencies ?? {}).length} dependencies present, ` +
    `none of the ${devOnly.length} development-only packages of package-lock.json installed`);
}

function checkConfiguration(stages, stage) {
  for (const s of stages) if ('UNDERSTUDY_ADMIN_TOKEN' in s.env) fail(`stage "${s.name}" bakes UNDERSTUDY_ADMIN_TOKEN into the image; it must come from the environment at run time`);
  const port = Number(stage.env.UNDERSTUDY_PORT);
  if (!stage.env.UNDERSTUDY_PORT || !stage.expose.includes(port)) fail(`final stage: UNDERSTUDY_PORT=${stage.env.UNDERSTUDY_PORT ?? '(unset)'} but EXPOSE lists ${stage.expose.join(', ') || 'nothing'}`);
  if (!stage.cmd) fail('final stage has no CMD');
  if (!stage.healthcheck) fail('final stage has no HEALTHCHECK');
  if (stage.user === 'root' || stage.user === '0') fail('final stage runs as root; add USER');
  // durable state must live in a volume, or it dies with the container
  const dataDir = stage.env.UNDERSTUDY_DATA_DIR;
  if (!dataDir || !stage.volumes.includes(path.posix.resolve(stage.workdir, dataDir))) {
    fail(`final stage: UNDERSTUDY_DATA_DIR=${dataDir ?? '(unset)'} is not one of its VOLUMEs (${stage.volumes.join(', ') || 'none'}): state would not outlive the container`);
  }
  log(`check: no admin token baked in; EXPOSE ${port} matches UNDERSTUDY_PORT; USER ${stage.user}; CMD and HEALTHCHECK present`);
}

// ---------------------------------------------------------------------------------------------------------------
// Running the final stage

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function argvOf(stage, form) {
  return form.exec ? hostArgv(stage, form.exec) : ['/bin/sh', '-c', form.shell];
}

function spawnInStage(stage, form, env, identity, stdio) {
  const argv = argvOf(stage, form);
  return spawn(argv[0], argv.slice(1), {
    cwd: hostPath(stage, '.'),
    env: { ...env, ...(identity ? { HOME: identity.home } : {}) },
    stdio,
    ...(identity ? { uid: identity.uid, gid: identity.gid } : {}),
  });
}

/** Starts CMD, echoing its output with a prefix; resolves `exited` when it ends. */
function startServer(stage, env, identity, label) {
  const child = spawnInStage(stage, stage.cmd, env, identity, ['ignore', 'pipe', 'pipe']);
  const echo = (stream) => (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      console.log(`  [${label} ${stream}] ${line}`);
    }
  };
  child.stdout.on('data', echo('out'));
  child.stderr.on('data', echo('err'));
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => {
      console.log(`  [${label}] could not start: ${error.message}`);
      resolve({ code: null, signal: `spawn error (${error.message})` });
    });
  });
  return { child, exited };
}

/** Runs the HEALTHCHECK command once; resolves to its exit code (or -1 on timeout). */
function runHealthcheck(stage, env, identity) {
  return new Promise((resolve) => {
    const probe = spawnInStage(stage, stage.healthcheck, env, identity, ['ignore', 'ignore', 'pipe']);
    let stderr = '';
    probe.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => probe.kill('SIGKILL'), stage.healthcheck.timeoutMs);
    probe.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stderr: error.message });
    });
    probe.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr: stderr.trim() });
    });
  });
}

async function httpStatus(url, headers = {}) {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    fail(`GET ${url} failed: ${error.cause?.message ?? error.message}`);
  }
}

function nonLoopbackAddress() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

async function stop(server, label) {
  server.child.kill('SIGTERM');
  const result = await within(server.exited, STOP_DEADLINE_MS);
  if (!result) {
    server.child.kill('SIGKILL');
    fail(`${label} did not exit within ${STOP_DEADLINE_MS / 1000} s of SIGTERM`);
  }
  return result;
}

async function runFinalStage(stage) {
  const identity = runIdentity(stage);
  // paths inside the image's volumes point into the stage root, where the dry run keeps them
  const containerEnv = { ...baseEnv(), ...stage.env };
  for (const [key, value] of Object.entries(containerEnv)) {
    if (stage.volumes.some((v) => value === v || value.startsWith(`${v}/`))) containerEnv[key] = path.join(stage.root, value);
  }
  log(`run: final stage "${stage.name}" in ${hostPath(stage, '.')} as ${identity ? identity.label : `the current user (USER ${stage.user} not applied: not running as root)`}`);

  // 1. The image carries no token and listens on 0.0.0.0: without a token from the environment it must refuse to start.
  {
    const port = await freePort();
    log(`run: CMD without UNDERSTUDY_ADMIN_TOKEN (UNDERSTUDY_PORT=${port}) must refuse to start`);
    const server = startServer(stage, { ...containerEnv, UNDERSTUDY_PORT: String(port) }, identity, 'no-token');
    const result = await within(server.exited, 15_000);
    if (!result) {
      await stop(server, 'the server started without a token');
      fail(`the server started on ${stage.env.UNDERSTUDY_HOST} without an admin token; it must refuse`);
    }
    if (result.code === 0) fail('the server exited 0 without an admin token; it must exit non-zero with a message');
    log(`check: refused as expected (exit ${result.code ?? result.signal})`);
  }

  // 2. Start it as `docker run -e UNDERSTUDY_ADMIN_TOKEN=... -p PORT:8080` would.
  const port = await freePort();
  const token = randomBytes(18).toString('base64url');
  const env = { ...containerEnv, UNDERSTUDY_PORT: String(port), UNDERSTUDY_ADMIN_TOKEN: token };
  log(`run: CMD ${JSON.stringify(argvOf(stage, stage.cmd))} with UNDERSTUDY_HOST=${env.UNDERSTUDY_HOST} UNDERSTUDY_PORT=${port} UNDERSTUDY_ADMIN_TOKEN=<generated>`);
  const spawnedAt = Date.now();
  const server = startServer(stage, env, identity, 'server');
  try {
    // 3. HEALTHCHECK until it passes.
    let healthy = false;
    let last = null;
    let attempts = 0;
    while (Date.now() - spawnedAt < HEALTH_DEADLINE_MS) {
      const exited = await within(server.exited, 0);
      if (exited) fail(`the server exited (${exited.code ?? exited.signal}) before it became healthy`);
      attempts++;
      last = await runHealthcheck(stage, env, identity);
      if (last.code === 0) {
        healthy = true;
        break;
      }
      await sleep(250);
    }
    if (!healthy) fail(`HEALTHCHECK did not pass within ${HEALTH_DEADLINE_MS / 1000} s (last exit ${last?.code}${last?.stderr ? `: ${last.stderr}` : ''})`);
    log(`check: HEALTHCHECK passed after ${Date.now() - spawnedAt} ms (${attempts} attempt${attempts > 1 ? 's' : ''})`);

    // 4. The admin API refuses requests without the token, and the probe really looks at the answer.
    const healthUrl = `http://127.0.0.1:${port}/__admin/health`;
    const anonymous = await httpStatus(healthUrl);
    if (anonymous !== 401) fail(`GET /__admin/health without the token answered ${anonymous}, expected 401`);
    const wrong = await httpStatus(healthUrl, { authorization: `Bearer not-${token}` });
    if (wrong !== 401) fail(`GET /__admin/health with a wrong token answered ${wrong}, expected 401`);
    log('check: GET /__admin/health without the token -> 401, with a wrong token -> 401');
    const wrongProbe = await runHealthcheck(stage, { ...env, UNDERSTUDY_ADMIN_TOKEN: `not-${token}` }, identity);
    if (wrongProbe.code === 0) fail('HEALTHCHECK passes with a wrong admin token: it does not check the answer');
    log(`check: HEALTHCHECK with a wrong token fails (exit ${wrongProbe.code})`);

    // 5. Reachable on a non-loopback address, as a published container port would be.
    const address = nonLoopbackAddress();
    if (address) {
      const status = await httpStatus(`http://${address}:${port}/__admin/health`, { authorization: `Bearer ${token}` });
      if (status !== 200) fail(`GET http://${address}:${port}/__admin/health answered ${status}, expected 200`);
      log(`check: reachable on the non-loopback address ${address} (200)`);
    } else {
      log('note: this host has no non-loopback IPv4 address; skipped the 0.0.0.0 reachability check');
    }

    // 6. Clean shutdown, as `docker stop` asks for it.
    log('run: SIGTERM');
    const result = await stop(server, 'the server');
    if (result.code !== 0) fail(`the server exited with ${result.code ?? result.signal} after SIGTERM, expected 0`);
    log('check: exited 0 after SIGTERM');
    const stateFile = path.join(containerEnv.UNDERSTUDY_DATA_DIR, 'state.db');
    if (!fs.existsSync(stateFile)) fail(`the server kept no state in its volume (${stateFile} is missing)`);
    log(`check: state stored in the volume (${path.relative(stage.root, stateFile)})`);
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// docker-compose.yml

/** The compose file parses, every service it builds is built from this Dockerfile, and its bind mounts exist. */
function checkComposeFile() {
  const file = path.join(REPO, 'docker-compose.yml');
  if (!fs.existsSync(file)) return;
  let compose;
  try {
    compose = loadYaml(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`docker-compose.yml does not parse: ${error.message}`);
  }
  const services = Object.entries(compose?.services ?? {});
  if (services.length === 0) fail('docker-compose.yml has no services');
  const built = [];
  for (const [name, service] of services) {
    if (service.build !== undefined) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build;
      const dockerfile = path.resolve(REPO, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
      if (dockerfile !== DOCKERFILE) fail(`docker-compose.yml: service ${name} builds ${path.relative(REPO, dockerfile)}, not the Dockerfile this dry run replays`);
      built.push(name);
    }
    // Docker creates a missing directory for a bind mount (deploy/certs is made by the user), but a missing file
    // would be mounted as an empty directory in its place: files named with an extension must exist
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (/^[./]/.test(source) && /\.\w+$/.test(source) && !fs.existsSync(path.resolve(REPO, source))) {
        fail(`docker-compose.yml: service ${name} mounts the file ${source}, which does not exist`);
      }
    }
  }
  if (built.length === 0) fail('docker-compose.yml builds no service from the Dockerfile');
  log(`check: docker-compose.yml parses; ${built.join(', ')} built from the Dockerfile; the files it mounts exist`);
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  if (!fs.existsSync(DOCKERFILE)) fail(`no Dockerfile at ${DOCKERFILE}`);
  const runRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-docker-dry-run-'));
  fs.chmodSync(runRoot, 0o755); // stages run as an unprivileged user must be able to reach their files
  log(`Dockerfile dry run: context ${REPO}, stage roots under ${runRoot}`);
  let ok = false;
  try {
    checkComposeFile();
    const instructions = readInstructions(fs.readFileSync(DOCKERFILE, 'utf8'));
    log(`parsed ${instructions.length} instructions; .dockerignore: ${ignorePatterns.length} patterns`);
    const stages = buildStages(instructions, runRoot);
    const final = stages.at(-1);
    log(`build finished: stages ${stages.map((s) => s.name).join(', ')}; final stage "${final.name}"`);
    checkConfiguration(stages, final);
    checkProductionInstall(final);
    await runFinalStage(final);
    ok = true;
  } finally {
    if (ok && !process.env.DRY_RUN_KEEP) fs.rmSync(runRoot, { recursive: true, force: true });
    else log(`stage roots kept in ${runRoot}`);
  }
  log('Dockerfile dry run passed');
}

main().catch((error) => {
  const message = error instanceof DryRunError ? error.message : error.stack;
  console.error(`\n[dry-run] FAILED: ${message}`);
  process.exit(1);
});
