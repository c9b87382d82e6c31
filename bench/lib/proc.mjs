// What the bench scripts share about the machine and its processes (Linux /proc; elsewhere the readers answer
// null): pinning with taskset, free ports, a process's memory, CPU time and thread placement, directory sizes.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether processes can be pinned to cpu0 and cpu1 (Linux, taskset, two CPUs we may use). */
export const canPin =
  process.platform === 'linux' &&
  (os.availableParallelism?.() ?? os.cpus().length) >= 2 &&
  commandExists('taskset') &&
  ['0', '1'].every((cpu) => spawnSync('taskset', ['-c', cpu, 'true']).status === 0);

/** `argv` run with every thread on `cpu` (when pinning is possible). */
export const pinned = (cpu, argv) => (canPin ? ['taskset', '-c', String(cpu), ...argv] : argv);

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A `kB` field of /proc/<pid>/status in MB (VmRSS: resident now, VmHWM: peak), or null. */
export function procStatusMb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export const rssMb = (pid) => procStatusMb(pid, 'VmRSS');
export const peakRssMb = (pid) => procStatusMb(pid, 'VmHWM');

export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds (user + system) a live process has used, or null. */
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
  } catch {
    return null;
  }
}

/**
 * CPU seconds the whole machine has been busy (user, nice, system, steal), or null. Interrupt time is left out:
 * most of it is the kernel moving our own load's packets, which no process is charged for.
 */
export function machineBusySeconds() {
  try {
    const [user, nice, system, , , , , steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + steal) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** The CPU lists a process's threads may run on, e.g. { "0": 9, "0-1": 2 } (threads per list), or null. */
export function threadAffinity(pid) {
  const counts = {};
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const m = /^Cpus_allowed_list:\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      if (m) counts[m[1]] = (counts[m[1]] ?? 0) + 1;
    }
  } catch {
    return null;
  }
  return counts;
}

/** Total size in bytes of the files under `dir`, or null when it cannot be read. */
export function directoryBytes(dir) {
  let total = 0;
  try {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      total += entry.isDirectory() ? directoryBytes(file) : fs.statSync(file).size;
    }
  } catch {
    return null;
  }
  return total;
}
