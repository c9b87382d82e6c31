/**
 * Every way a client can get an alert wrong, and hostile input, through real sockets: Slack's refusals are its
 * plain-text codes, PagerDuty's are its `invalid event` object listing each problem; bodies that are oversize, of
 * another type, deeply nested or not UTF-8 get a clear 4xx; a refused alert is journaled with its status (so the
 * report card, which counts only 2xx alerts, does not count it); the server keeps serving throughout.
 */
import { describe, expect, it } from 'vitest';
import { call, rawRequest } from '../../helpers.js';
import { alertEntries, pagerDuty, PAGERDUTY_PATH, post, ROUTING_KEY, sinks, slack, SLACK_PATH, trigger } from './support.js';

/** `depth` objects nested in one another, the innermost holding `leaf` */
function nested(depth: number, leaf: unknown = 'x'): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
}

const INVALID = { status: 'invalid event', message: 'Event object is invalid' };

describe('Slack refusals', () => {
  const cases: Array<[string, string, string]> = [
    ['no text, blocks or attachments', '{"username":"monitor","channel":"#ops"}', 'no_text'],
    ['an empty text', '{"text":""}', 'no_text'],
    ['a text of spaces', '{"text":"   \\n"}', 'no_text'],
    ['empty blocks and attachments', '{"blocks":[],"attachments":[]}', 'no_text'],
    ['malformed JSON', '{"text": "unterminated', 'invalid_payload'],
    ['an empty body', '', 'invalid_payload'],
    ['JSON that is not an object', '["text"]', 'invalid_payload'],
    ['a text that is not a string', '{"text":42}', 'invalid_payload'],
    ['a username that is not a string', '{"text":"x","username":{"name":"m"}}', 'invalid_payload'],
    ['a block without a type', '{"blocks":[{"text":"x"}]}', 'invalid_blocks'],
    ['blocks that are not an array', '{"blocks":"section"}', 'invalid_blocks'],
    ['51 blocks', JSON.stringify({ blocks: Array(51).fill({ type: 'divider' }) }), 'invalid_blocks'],
    ['101 attachments', JSON.stringify({ attachments: Array(101).fill({ text: 'x' }) }), 'too_many_attachments'],
  ];
  for (const [what, body, code] of cases) {
    it(`${what}: 400 ${code}, in plain text`, async () => {
      const s = await sinks();
      const r = await post(s.url, SLACK_PATH, body, 'application/json');
      expect(r.status).toBe(400);
      expect(r.text).toBe(code);
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect((await alertEntries(s.url)).map((e) => [e.operation, e.status])).toEqual([['slackMessage', 400]]);
      expect((await slack(s.url, { text: 'still serving' })).text).toBe('ok');
    });
  }

  it('50 blocks and 100 attachments are accepted (the limits are inclusive)', async () => {
    const s = await sinks();
    expect((await slack(s.url, { blocks: Array(50).fill({ type: 'divider' }) })).status).toBe(200);
    expect((await slack(s.url, { attachments: Array(100).fill({ text: 'x' }) })).status).toBe(200);
  });
});

describe('PagerDuty refusals', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['no routing_key', { event_action: 'trigger', payload: trigger().payload }, ["'routing_key' is missing (it is the integration key of a PagerDuty service, 32 characters)"]],
    ['a blank routing_key', trigger({ routing_key: '' }), ["'routing_key' is blank (it is the integration key of a PagerDuty service, 32 characters)"]],
    ['a routing_key that is not a string', trigger({ routing_key: 32 }), ["'routing_key' must be a string"]],
    ['no event_action', { routing_key: ROUTING_KEY, payload: trigger().payload }, ["'event_action' is missing"]],
    ['an unknown event_action', trigger({ event_action: 'escalate' }), [`'event_action' must be one of "trigger", "acknowledge", "resolve"`]],
    ['a trigger without payload', { routing_key: ROUTING_KEY, event_action: 'trigger' }, ["'payload' is missing"]],
    ['a payload that is not an object', trigger({ payload: 'down' }), ["'payload' must be an object"]],
    [
      'a payload without summary, source and severity',
      trigger({ payload: { component: 'db' } }),
      ["'payload.summary' is missing", "'payload.source' is missing", "'payload.severity' is missing"],
    ],
    ['an unknown severity', trigger({ payload: { summary: 's', source: 'h', severity: 'fatal' } }), [`'payload.severity' must be one of "critical", "error", "warning", "info"`]],
    ['a summary over 1024 characters', trigger({ payload: { summary: 's'.repeat(1025), source: 'h', severity: 'info' } }), ["'payload.summary' is longer than 1024 characters"]],
    ['a blank source', trigger({ payload: { summary: 's', source: '', severity: 'info' } }), ["'payload.source' is blank"]],
    ['an acknowledge without dedup_key', { routing_key: ROUTING_KEY, event_action: 'acknowledge' }, ["'dedup_key' is missing"]],
    ['a resolve without dedup_key', { routing_key: ROUTING_KEY, event_action: 'resolve' }, ["'dedup_key' is missing"]],
    ['a dedup_key over 255 characters', trigger({ dedup_key: 'k'.repeat(256) }), ["'dedup_key' is longer than 255 characters"]],
    ['an image without src', trigger({ images: [{ href: 'https://example.com' }] }), ["'images[0].src' is missing"]],
    [
      'every problem at once',
      { event_action: 'trigger', payload: { source: 7, severity: 'bad' } },
      [
        "'routing_key' is missing (it is the integration key of a PagerDuty service, 32 characters)",
        "'payload.summary' is missing",
        "'payload.source' must be a string",
        `'payload.severity' must be one of "critical", "error", "warning", "info"`,
      ],
    ],
    ['an array', [trigger()], ['The event must be a JSON object']],
  ];
  for (const [what, event, errors] of cases) {
    it(`${what}: 400 invalid event, saying so`, async () => {
      const s = await sinks();
      const r = await pagerDuty(s.url, event);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(r.body).toEqual({ ...INVALID, errors: expect.any(Array) });
      expect([...r.body.errors].sort()).toEqual([...errors].sort());
      expect((await alertEntries(s.url)).map((e) => [e.operation, e.status])).toEqual([['pagerDutyEnqueue', 400]]);
    });
  }

  it('malformed JSON and an empty body: 400 invalid event', async () => {
    const s = await sinks();
    const malformed = await post(s.url, PAGERDUTY_PATH, '{"routing_key": ', 'application/json');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject(INVALID);
    expect(malformed.body.errors[0]).toMatch(/^The body is not valid JSON/);
    const empty = await post(s.url, PAGERDUTY_PATH, '', 'application/json');
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ ...INVALID, errors: ['The body is empty: send the event as a JSON object'] });
  });
});

describe('hostile input', () => {
  it('a body over limits.bodyBytes: 413 in plain text, and the server keeps serving', async () => {
    const s = await sinks({ limits: { bodyBytes: 4096 } });
    const big = JSON.stringify({ text: 'x'.repeat(10_000) });
    for (const path of [SLACK_PATH, PAGERDUTY_PATH]) {
      const r = await rawRequest(s.url, path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }, body: big });
      expect(r.status, path).toBe(413);
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(r.text).toMatch(/4096 bytes/);
    }
    expect((await alertEntries(s.url)).map((e) => e.status)).toEqual([413, 413]);
    expect((await slack(s.url, { text: 'still serving' })).text).toBe('ok');
  });

  it('another content type, or none: 415, each sink in its own words', async () => {
    const s = await sinks();
    for (const [body, type] of [
      ['text=hi', 'application/x-www-form-urlencoded'],
      ['hi', 'text/plain'],
      ['<text>hi</text>', 'application/xml'],
      [Buffer.from([0, 1, 2, 255]), 'application/octet-stream'],
    ] as const) {
      const toSlack = await post(s.url, SLACK_PATH, body, type);
      expect([toSlack.status, toSlack.text], type).toEqual([415, 'invalid_payload']);
      const toPagerDuty = await post(s.url, PAGERDUTY_PATH, body, type);
      expect(toPagerDuty.status, type).toBe(415);
      expect(toPagerDuty.body).toMatchObject(INVALID);
      expect(toPagerDuty.body.errors[0]).toMatch(/application\/json/);
    }
    // fetch would add text/plain to a string body: this one goes without any content type
    const untyped = { method: 'POST', headers: { 'content-length': 13 }, body: '{"text":"hi"}' };
    expect((await rawRequest(s.url, SLACK_PATH, untyped)).text).toBe('invalid_payload');
    const toPagerDuty = await rawRequest(s.url, PAGERDUTY_PATH, untyped);
    expect(toPagerDuty.status).toBe(415);
    expect(toPagerDuty.body.errors).toEqual(['This operation takes application/json, not a body without a Content-Type.']);
    expect((await slack(s.url, { text: 'still serving' })).text).toBe('ok');
  });

  it('bytes that are not UTF-8: 400', async () => {
    const s = await sinks();
    const bytes = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    expect((await post(s.url, SLACK_PATH, bytes, 'application/json')).text).toBe('invalid_payload');
    const r = await post(s.url, PAGERDUTY_PATH, bytes, 'application/json');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ ...INVALID, errors: ['The body is not valid UTF-8'] });
  });

  it('deep nesting: refused past 64 levels, a million levels too, without harm', async () => {
    const s = await sinks();
    // the event is level 1, its payload 2, custom_details 3: 62 more levels make 64
    const event = (levels: number) => trigger({ payload: { ...(trigger().payload as object), custom_details: nested(levels) } });
    expect((await pagerDuty(s.url, event(62))).status).toBe(202);
    const deep = await pagerDuty(s.url, event(63));
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual({ ...INVALID, errors: ['The event is nested more than 64 levels deep'] });
    expect((await slack(s.url, { text: 'x', metadata: nested(63) })).status).toBe(200);
    expect((await slack(s.url, { text: 'x', metadata: nested(64) })).text).toBe('invalid_payload');
    // a million levels: JSON.parse builds it, nothing recurses into it
    const million = '{"text":"x","metadata":' + '['.repeat(1_000_000) + ']'.repeat(1_000_000) + '}';
    expect((await post(s.url, SLACK_PATH, million, 'application/json')).text).toBe('invalid_payload');
    const pd = '{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":' + '['.repeat(1_000_000) + ']'.repeat(1_000_000) + '}}';
    expect((await post(s.url, PAGERDUTY_PATH, pd, 'application/json')).body.errors).toEqual(['The event is nested more than 64 levels deep']);
    expect((await alertEntries(s.url)).map((e) => e.status)).toEqual([202, 400, 200, 400, 400, 400]);
    expect((await slack(s.url, { text: 'still serving' })).text).toBe('ok');
  });

  it('unknown paths and methods under /alerts: 404 and 405 with Allow, in plain text', async () => {
    const s = await sinks();
    for (const path of ['/alerts', '/alerts/slack', '/alerts/slack/', '/alerts/pagerduty/v2/enqueue/x', '/alerts/pagerduty/v1/enqueue', '/alerts/teams/hook']) {
      const r = await post(s.url, path, '{"text":"x"}', 'application/json');
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
    for (const path of [SLACK_PATH, PAGERDUTY_PATH]) {
      const r = await call(`${s.url}${path}`);
      expect(r.status, path).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
    }
    // dot segments are part of the webhook path, not a way out of the sink
    const traversal = await rawRequest(s.url, '/alerts/slack/../../__admin/health', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    expect([traversal.status, traversal.text]).toEqual([200, 'ok']);
    expect((await alertEntries(s.url)).at(-1)).toMatchObject({ operation: 'slackMessage', path: '/alerts/slack/../../__admin/health' });
  });
});
