/**
 * A subscription with target salesforce-platform-event, made through the admin API: WMS changes are published
 * into a local fake org as Platform Events, with the fields the subscription maps, after a client-credentials
 * token; an org over its API limit (403 REQUEST_LIMIT_EXCEEDED) is retried per the policy, not given up on.
 */
import { describe, expect, it, vi } from 'vitest';
import { call, json, start } from '../helpers.js';
import { startFakeOrg } from './targets/fake-org.js';


// the fake orgs' servers are closed by sinks.ts after the file

describe('Platform Events into a fake org', () => {
  it('publishes mapped fields, and backs off on REQUEST_LIMIT_EXCEEDED until the org accepts', async () => {
    const org = await startFakeOrg({ clientId: 'understudy-app', clientSecret: 'app-secret' });

    let limited = 2;
    org.onPublish = () => (limited-- > 0 ? { status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }] } : undefined);
    const server = await start({ seed: 21 });
    const sub = await call(
      `${server.url}/__admin/subscriptions`,
      json({
        target: 'salesforce-platform-event',
        events: ['reservation.created'],
        retry: { base: '20ms', maxAttempts: 5 },
        salesforce: {
          instanceUrl: org.url,
          eventObject: 'Reservation_Created__e',
          fields: { Reservation_Id__c: 'data.id', External_Order__c: 'data.externalOrderId', Event_Id__c: 'id' },
          auth: { grant: 'client_credentials', clientId: 'understudy-app', clientSecret: 'app-secret' },
        },
      }),
    );
    expect(sub.status).toBe(201);
    expect(JSON.stringify(sub.body)).not.toContain('app-secret');
    const made = await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'PE-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    expect(made.status).toBe(201);

    const [delivery] = await vi.waitFor(
      async () => {
        const list = (await call(`${server.url}/__admin/deliveries`)).body.deliveries;
        expect(list[0]?.status).toBe('delivered');
        return list;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(delivery.attempts.map((a: any) => [a.status, a.error])).toEqual([
      [403, 'REQUEST_LIMIT_EXCEEDED'],
      [403, 'REQUEST_LIMIT_EXCEEDED'],
      [201, null],
    ]);
    const accepted = org.publishCalls.at(-1)!;
    expect(accepted.path).toMatch(/^\/services\/data\/v\d+\.0\/sobjects\/Reservation_Created__e\/$/);
    expect(accepted.body).toEqual({ Reservation_Id__c: made.body.id, External_Order__c: 'PE-1', Event_Id__c: delivery.eventId });
    // one token for all three publishes: a limit is not an authentication failure
    expect(org.tokenCalls).toHaveLength(1);
  });
});
