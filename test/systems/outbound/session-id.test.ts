/**
 * An Outbound Message sent with "Send Session ID" carries a live Salesforce session token. The receiver needs
 * nothing of it, and it must not outlive the request: the journal shows it masked (every request, refused ones
 * too), and the data directory (the write log, the journal database, snapshots) never holds it.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../../src/server.js';
import { call } from '../../helpers.js';
import { account, envelope } from './fixtures.js';
import { ackOf, post } from './http-support.js';

const SESSION = '00D5e000000Jk2m!AQ4AQFk7cTsX3z9bHq.tokenSecretThatMustNotBeStored';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the session id an Outbound Message may carry', () => {
  it('is masked in the journal and never written to the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-session-'));
    const server = await startServer({ port: 0, dataDir: dir, seed: 3, systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false } } });
    try {
      expect(ackOf(await post(server.url, '/sfdc/outbound', envelope([account(1)], { sessionId: SESSION })))).toBe(true);
      // refused before any operation (a wrong path, and a body that does not parse) is masked too
      expect((await post(server.url, '/sfdc/outbound/bad%20name', envelope([account(2)], { sessionId: SESSION }))).status).toBe(404);
      expect((await post(server.url, '/sfdc/outbound', `<x><SessionId>${SESSION}</SessionId>`)).status).toBe(500);

      const entries = (await call(`${server.url}/__admin/journal?system=outbound`)).body.entries as Array<{ id: number }>;
      expect(entries).toHaveLength(3);
      for (const { id } of entries) {
        const entry = (await call(`${server.url}/__admin/journal/${id}`)).body;
        const body = JSON.stringify(entry.request);
        expect(body).not.toContain('tokenSecret');
        expect(body).toContain(`SessionId>${'*'.repeat(SESSION.length)}<`);
      }
      // the notification itself was recorded as usual
      expect((await call(`${server.url}/__admin/outbound`)).body.notifications).toHaveLength(1);
      await server.store.settled();
    } finally {
      await server.close(100);
    }
    const leaked = filesUnder(dir).filter((file) => readFileSync(file).includes('tokenSecret'));
    expect(leaked).toEqual([]);
  });
});
