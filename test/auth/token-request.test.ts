/**
 * Token endpoint requests as the clients of issue #13 send them — a Named Credential's client_secret_basic and
 * client_secret_post, a private_key_jwt assertion, a public client with PKCE — and the malformed ones RFC 6749 §5.2
 * answers with invalid_request or invalid_client: not a form, repeated parameters, oversize, two authentication
 * methods at once, a client_id that contradicts the Basic header, a bearer token or garbage in Authorization.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_ASSERTION_JWT, FORM, MAX_TOKEN_REQUEST_BYTES, presentedClient, readTokenForm } from '../../src/auth/token-request.js';

const form = (text: string) => Buffer.from(text, 'utf8');
const params = (text: string): Map<string, string> => {
  const read = readTokenForm(form(text), FORM);
  if (!('params' in read)) throw new Error(read.description);
  return read.params;
};
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('the form', () => {
  it('reads each parameter once; one sent without a value counts as omitted', () => {
    expect([...params('grant_type=client_credentials&scope=wms.read%20wms.write&client_id=')]).toEqual([
      ['grant_type', 'client_credentials'],
      ['scope', 'wms.read wms.write'],
    ]);
    expect(readTokenForm(form('grant_type=client_credentials'), 'application/x-www-form-urlencoded; charset=UTF-8')).toHaveProperty('params');
  });

  it.each([
    [form('{"grant_type":"client_credentials"}'), 'application/json', /send Content-Type application\/x-www-form-urlencoded, not application\/json/],
    [form('grant_type=a'), undefined, /a token request is a form/],
    [undefined, FORM, /no parameters/],
    [form('grant_type=a&grant_type=b'), FORM, /grant_type is given more than once/],
    [Buffer.alloc(MAX_TOKEN_REQUEST_BYTES + 1, 97), FORM, /at most 65536/],
    [Buffer.from([0x67, 0x3d, 0xff, 0xfe]), FORM, /not UTF-8/],
  ])('refuses %#: invalid_request', (body, type, message) => {
    const read = readTokenForm(body, type);
    expect(read).toMatchObject({ status: 400, error: 'invalid_request', description: expect.stringMatching(message) });
  });
});

describe('client authentication', () => {
  it('client_secret_basic, with form-urlencoded parts (RFC 6749 §2.3.1), and a matching client_id beside it', () => {
    expect(presentedClient(params('grant_type=client_credentials'), basic('sf orders', 's3cr:t+%'))).toEqual({
      client: { method: 'client_secret_basic', clientId: 'sf orders', secret: 's3cr:t+%', raw: { clientId: 'sf%20orders', secret: 's3cr%3At%2B%25' } },
    });
    // a client that did not encode: the raw form is kept beside the decoded one, and text that does not decode is taken as it is
    const unencoded = presentedClient(params('grant_type=client_credentials'), `Basic ${Buffer.from('sf-orders:a+b%zz').toString('base64')}`);
    expect(unencoded).toEqual({ client: { method: 'client_secret_basic', clientId: 'sf-orders', secret: 'a+b%zz', raw: { clientId: 'sf-orders', secret: 'a+b%zz' } } });
    const plus = presentedClient(params('grant_type=client_credentials'), `Basic ${Buffer.from('sf-orders:a+b').toString('base64')}`);
    expect(plus).toMatchObject({ client: { secret: 'a b', raw: { secret: 'a+b' } } });
    expect(presentedClient(params('client_id=sf-orders'), basic('sf-orders', 'x'))).toHaveProperty('client.method', 'client_secret_basic');
  });

  it('client_secret_post, private_key_jwt (with or without client_id), a public client', () => {
    expect(presentedClient(params('client_id=sf-orders&client_secret=x'), undefined)).toEqual({ client: { method: 'client_secret_post', clientId: 'sf-orders', secret: 'x' } });
    const jwt = `client_assertion_type=${encodeURIComponent(CLIENT_ASSERTION_JWT)}&client_assertion=aaa.bbb.ccc`;
    expect(presentedClient(params(jwt), undefined)).toEqual({ client: { method: 'private_key_jwt', clientId: undefined, assertion: 'aaa.bbb.ccc' } });
    expect(presentedClient(params(`${jwt}&client_id=sf-orders`), undefined)).toHaveProperty('client.clientId', 'sf-orders');
    expect(presentedClient(params('client_id=spa&code_verifier=abc'), undefined)).toEqual({ client: { method: 'none', clientId: 'spa' } });
  });

  it('refuses two methods at once, a contradicting client_id, half an assertion, a secret without an id', () => {
    expect(presentedClient(params('client_id=a&client_secret=x'), basic('a', 'x'))).toMatchObject({
      status: 400,
      error: 'invalid_request',
      description: expect.stringMatching(/more than one way \(client_secret_basic, client_secret_post\)/),
    });
    expect(presentedClient(params('client_id=b'), basic('a', 'x'))).toMatchObject({ error: 'invalid_request', description: expect.stringMatching(/not the client the Authorization header names/) });
    expect(presentedClient(params('client_assertion=aaa.bbb.ccc'), undefined)).toMatchObject({ error: 'invalid_request', description: 'client_assertion needs client_assertion_type' });
    expect(presentedClient(params('client_assertion_type=urn:example:saml&client_assertion=x'), undefined)).toMatchObject({ error: 'invalid_request' });
    expect(presentedClient(params(`client_assertion_type=${encodeURIComponent(CLIENT_ASSERTION_JWT)}`), undefined)).toMatchObject({ description: /without a client_assertion/ });
    expect(presentedClient(params('client_secret=x'), undefined)).toMatchObject({ error: 'invalid_request', description: 'client_secret is given without client_id' });
  });

  it('refuses what is not Basic credentials with 401 invalid_client (answered with WWW-Authenticate: Basic), and no client at all', () => {
    for (const [header, message] of [
      ['Bearer eyJhbGciOi', /not a bearer token/],
      ['Digest username="a"', /not HTTP Basic credentials/],
      ['Basic !!!', /not HTTP Basic credentials/],
      [`Basic ${Buffer.from('no-colon').toString('base64')}`, /not client_id:client_secret/],
      [`Basic ${Buffer.from(':secret').toString('base64')}`, /not client_id:client_secret/],
    ] as const) {
      expect(presentedClient(params('grant_type=client_credentials'), header), header).toMatchObject({ status: 401, error: 'invalid_client', basic: true, description: expect.stringMatching(message) });
    }
    expect(presentedClient(params('grant_type=client_credentials'), undefined)).toMatchObject({ status: 401, error: 'invalid_client', description: /does not say which client/ });
  });
});
