/**
 * Platform Event publishing against a fake org on a local socket: token grants (client credentials, and a JWT
 * bearer assertion the org verifies with jose and the public key), field mapping, the 401 → refresh → retry-once
 * rule, the daily API limit and token endpoint failures.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlatformEventTarget, eventFields } from '../../../src/deliveries/targets/salesforce-platform-event.js';
import { parseSalesforceOptions, type SalesforceOptions } from '../../../src/deliveries/targets/salesforce-options.js';
import type { DeliveryTarget, SendRequest } from '../../../src/deliveries/targets/target.js';
import { ManualClock } from '../../../src/util/clock.js';
import { EXPIRED_SESSION, REQUEST_LIMIT_EXCEEDED, startFakeOrg, type FakeOrg } from './fake-org.js';
import { closedPort, httpSink } from './sinks.js';

const event = { id: 'evt_abc', type: 'inventory.changed', created: '2026-01-01T00:00:00.000Z', system: 'wms', data: { sku: 'SKU-1', onHand: 3, lines: [{ sku: 'L-1' }] } };

function request(overrides: Partial<SendRequest> = {}): SendRequest {
  return { body: JSON.stringify(event), event, timeoutMs: 2000, nowMs: Date.now(), secrets: [], ...overrides };
}

const targets: DeliveryTarget[] = [];
afterEach(() => {
  for (const target of targets.splice(0)) target.close();
});

function options(raw: Record<string, unknown>): SalesforceOptions {
  const parsed = parseSalesforceOptions(raw);
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

function target(opts: SalesforceOptions, clock?: ManualClock): DeliveryTarget {
  const created = createPlatformEventTarget(opts, { concurrency: 2, userAgent: 'understudy-test', clock });
  targets.push(created);
  return created;
}

async function clientCredentialsOrg(): Promise<{ org: FakeOrg; opts: SalesforceOptions }> {
  const org = await startFakeOrg({ clientId: 'cid', clientSecret: 'csecret' });
  const opts = options({
    instanceUrl: org.url,
    eventObject: 'Stock_Changed__e',
    fields: { Sku__c: 'data.sku', Event_Id__c: 'id', On_Hand__c: 'data.onHand', First_Line__c: 'data.lines.0.sku', Missing__c: 'data.nothing.here' },
    auth: { grant: 'client_credentials', clientId: 'cid', clientSecret: 'csecret' },
  });
  return { org, opts };
}

describe('Platform Event target', () => {
  it('gets a token with client credentials and publishes the mapped fields', async () => {
    const { org, opts } = await clientCredentialsOrg();
    const t = target(opts);
    const outcome = await t.send(request());
    expect(outcome.status).toBe(201);
    expect(outcome.error).toBeUndefined();

    expect(org.tokenCalls).toHaveLength(1);
    expect(Object.fromEntries(org.tokenCalls[0].form)).toEqual({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'csecret' });
    expect(org.publishCalls).toEqual([
      {
        path: '/services/data/v61.0/sobjects/Stock_Changed__e/',
        host: new URL(org.url).host,
        authorization: 'Bearer tok-1',
        body: { Sku__c: 'SKU-1', Event_Id__c: 'evt_abc', On_Hand__c: 3, First_Line__c: 'L-1', Missing__c: null },
      },
    ]);

    // the token is kept for the next attempts
    expect((await t.send(request())).status).toBe(201);
    expect(org.tokenCalls).toHaveLength(1);
    expect(org.publishCalls).toHaveLength(2);
  });

  it('shares one token request among concurrent attempts', async () => {
    const { org, opts } = await clientCredentialsOrg();
    const t = target(opts);
    const outcomes = await Promise.all([t.send(request()), t.send(request()), t.send(request())]);
    expect(outcomes.map((o) => o.status)).toEqual([201, 201, 201]);
    expect(org.tokenCalls).toHaveLength(1);
  });

  it('publishes to the instance_url the token answer names', async () => {
    const org = await startFakeOrg({ clientId: 'cid', clientSecret: 'csecret', instanceUrl: (o) => o.url.replace('127.0.0.1', 'localhost') });
    const t = target(options({ instanceUrl: org.url, apiVersion: 'v59.0', eventObject: 'Stock_Changed__e', fields: { Sku__c: 'data.sku' }, auth: { grant: 'client_credentials', clientId: 'cid', clientSecret: 'csecret' } }));
    expect((await t.send(request())).status).toBe(201);
    expect(org.publishCalls[0].host).toBe(`localhost:${new URL(org.url).port}`);
    expect(org.publishCalls[0].path).toBe('/services/data/v59.0/sobjects/Stock_Changed__e/');
  });

  it('signs a JWT bearer assertion the org verifies with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    // a clock far from real time: the assertion's exp must come from it, and the org checks it against the same time
    const clock = new ManualClock(Date.UTC(2030, 5, 1, 12, 0, 0));
    const org = await startFakeOrg({ clientId: 'connected-app', publicKeyPem: publicKey, username: 'integration@acme.test', audience: 'https://test.salesforce.com', now: () => clock.now() });
    const t = target(
      options({
        instanceUrl: org.url,
        eventObject: 'Stock_Changed__e',
        fields: { Sku__c: 'data.sku' },
        auth: { grant: 'jwt-bearer', clientId: 'connected-app', username: 'integration@acme.test', audience: 'https://test.salesforce.com', privateKey },
      }),
      clock,
    );
    const outcome = await t.send(request());
    expect(outcome).toMatchObject({ status: 201 });
    expect(outcome.error).toBeUndefined();
    expect(org.tokenCalls).toHaveLength(1);
    expect(org.tokenCalls[0].form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(org.tokenCalls[0].claims).toEqual({
      iss: 'connected-app',
      sub: 'integration@acme.test',
      aud: 'https://test.salesforce.com',
      exp: clock.now() / 1000 + 180,
    });
    expect(org.publishCalls[0].body).toEqual({ Sku__c: 'SKU-1' });
  });

  it('a JWT signed with another key is refused by the org, and the attempt says why', async () => {
    const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const trusted = pair();
    const other = pair();
    const org = await startFakeOrg({ clientId: 'app', publicKeyPem: trusted.publicKey, username: 'u@acme.test', audience: 'https://login.salesforce.com' });
    const t = target(options({ instanceUrl: org.url, eventObject: 'Stock_Changed__e', fields: { Sku__c: 'data.sku' }, auth: { grant: 'jwt-bearer', clientId: 'app', username: 'u@acme.test', audience: 'https://login.salesforce.com', privateKey: other.privateKey } }));
    const outcome = await t.send(request());
    expect(outcome.status).toBe(400);
    expect(outcome.error).toBe('token request failed: 400 invalid_grant: bad assertion: signature verification failed');
    expect(org.publishCalls).toHaveLength(0);
  });

  it('renews a token that says when it expires before it does', async () => {
    const { org, opts } = await clientCredentialsOrg();
    let issued = 0;
    org.onToken = () => {
      const accessToken = `short-${++issued}`;
      org.valid.add(accessToken);
      return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 } };
    };
    const clock = new ManualClock();
    const t = target(opts, clock);
    expect((await t.send(request())).status).toBe(201);
    clock.advance(3000_000);
    expect((await t.send(request())).status).toBe(201);
    expect(org.tokenCalls).toHaveLength(1);
    // within the last 30 s of its hour the token is no longer used
    clock.advance(590_000);
    expect((await t.send(request())).status).toBe(201);
    expect(org.tokenCalls).toHaveLength(2);
    expect(org.publishCalls.map((c) => c.authorization)).toEqual(['Bearer short-1', 'Bearer short-1', 'Bearer short-2']);
  });

  it('on a 401 fetches a new token once and retries the publish within the same attempt', async () => {
    const { org, opts } = await clientCredentialsOrg();
    const t = target(opts);
    expect((await t.send(request())).status).toBe(201);
    // the org revokes the session (expiry, a password reset, an admin)
    org.valid.clear();
    const outcome = await t.send(request());
    expect(outcome.status).toBe(201);
    expect(outcome.error).toBeUndefined();
    expect(org.tokenCalls).toHaveLength(2);
    expect(org.publishCalls.map((c) => c.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('a 401 on the first publish: exactly two token requests and two publishes', async () => {
    const { org, opts } = await clientCredentialsOrg();
    let first = true;
    org.onPublish = () => {
      if (!first) return undefined;
      first = false;
      return EXPIRED_SESSION;
    };
    const outcome = await target(opts).send(request());
    expect(outcome.status).toBe(201);
    expect(org.tokenCalls).toHaveLength(2);
    expect(org.publishCalls).toHaveLength(2);
    expect(org.publishCalls[1].authorization).toBe('Bearer tok-2');
  });

  it('retries only once: a second 401 is the outcome', async () => {
    const { org, opts } = await clientCredentialsOrg();
    org.onPublish = () => EXPIRED_SESSION;
    const outcome = await target(opts).send(request());
    expect(outcome).toMatchObject({ status: 401, error: 'INVALID_SESSION_ID: Session expired or invalid' });
    expect(org.tokenCalls).toHaveLength(2);
    expect(org.publishCalls).toHaveLength(2);
  });

  it('reports the daily API limit as REQUEST_LIMIT_EXCEEDED, not as an auth failure', async () => {
    const { org, opts } = await clientCredentialsOrg();
    org.onPublish = () => REQUEST_LIMIT_EXCEEDED;
    const outcome = await target(opts).send(request());
    expect(outcome).toMatchObject({ status: 403, error: 'REQUEST_LIMIT_EXCEEDED' });
    // the token was fine: no new one is fetched
    expect(org.tokenCalls).toHaveLength(1);
    expect(org.publishCalls).toHaveLength(1);
  });

  it('reports other Salesforce errors with their code and message', async () => {
    const { org, opts } = await clientCredentialsOrg();
    org.onPublish = () => ({ status: 400, body: [{ message: "No such column 'Sku__c' on sobject of type Stock_Changed__e", errorCode: 'INVALID_FIELD', fields: [] }] });
    expect(await target(opts).send(request())).toMatchObject({ status: 400, error: "INVALID_FIELD: No such column 'Sku__c' on sobject of type Stock_Changed__e" });
  });

  it('a token endpoint refusal is a clear failed attempt, with no publish', async () => {
    const { org, opts } = await clientCredentialsOrg();
    org.onToken = () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } });
    const outcome = await target(opts).send(request());
    expect(outcome).toMatchObject({ status: 400, error: 'token request failed: 400 invalid_grant: expired access/refresh token' });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(org.publishCalls).toHaveLength(0);

    // the failure is not cached: the next attempt asks again
    org.onToken = undefined;
    expect((await target(opts).send(request())).status).toBe(201);
  });

  it('wrong client credentials are reported the way the org words them', async () => {
    const { org } = await clientCredentialsOrg();
    const t = target(options({ instanceUrl: org.url, eventObject: 'Stock_Changed__e', fields: { Sku__c: 'data.sku' }, auth: { grant: 'client_credentials', clientId: 'cid', clientSecret: 'wrong' } }));
    expect(await t.send(request())).toMatchObject({ status: 400, error: 'token request failed: 400 invalid_client: invalid client credentials' });
  });

  it('an unreachable token endpoint gives a null status', async () => {
    const url = await closedPort();
    const t = target(options({ instanceUrl: url.origin, eventObject: 'Stock_Changed__e', fields: { Sku__c: 'data.sku' }, auth: { grant: 'client_credentials', clientId: 'cid', clientSecret: 's' } }));
    expect(await t.send(request())).toMatchObject({ status: null, error: 'token request failed: ECONNREFUSED' });
  });

  it('the attempt timeout covers the token request and the publish together', async () => {
    const { org, opts } = await clientCredentialsOrg();
    const silent = await httpSink(() => {});
    // the token answer sends publishes to an instance that never answers
    org.onToken = () => ({ status: 200, body: { access_token: 'tok-x', instance_url: silent.url.origin } });
    const outcome = await target(opts).send(request({ timeoutMs: 200 }));
    expect(outcome).toMatchObject({ status: null, error: 'timeout' });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(190);
    expect(outcome.latencyMs).toBeLessThan(1000);
  });
});

describe('eventFields', () => {
  it('follows dotted paths, gives null for a missing one and JSON text for an object', () => {
    expect(eventFields({ A__c: 'data.sku', B__c: 'data.lines', C__c: 'data.lines.1.sku', D__c: 'data.sku.length', E__c: 'created' }, event)).toEqual({
      A__c: 'SKU-1',
      B__c: '[{"sku":"L-1"}]',
      C__c: null,
      D__c: null,
      E__c: '2026-01-01T00:00:00.000Z',
    });
  });
});
