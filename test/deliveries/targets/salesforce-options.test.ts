/** A subscription's `salesforce` object: defaults, normalisation, and every problem reported at once by its path. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSalesforceOptions } from '../../../src/deliveries/targets/salesforce-options.js';

const pem = (type: 'rsa' | 'ec', modulusLength = 2048) =>
  type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    : generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

const clientCredentials = { grant: 'client_credentials', clientId: 'cid', clientSecret: 'secret' };
const minimal = { instanceUrl: 'https://acme.my.salesforce.com/', eventObject: 'Stock_Changed__e', fields: { Sku__c: 'data.sku' }, auth: clientCredentials };

function errorsOf(raw: unknown) {
  const parsed = parseSalesforceOptions(raw);
  if (!('errors' in parsed)) throw new Error('expected errors');
  return parsed.errors;
}

function valueOf(raw: unknown) {
  const parsed = parseSalesforceOptions(raw);
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

describe('parseSalesforceOptions', () => {
  it('fills in the token URL and API version', () => {
    expect(valueOf(minimal)).toEqual({
      instanceUrl: 'https://acme.my.salesforce.com',
      tokenUrl: 'https://acme.my.salesforce.com/services/oauth2/token',
      apiVersion: '61.0',
      eventObject: 'Stock_Changed__e',
      fields: { Sku__c: 'data.sku' },
      auth: clientCredentials,
    });
  });

  it('keeps a given token URL and accepts http: for a local org', () => {
    const value = valueOf({ ...minimal, instanceUrl: 'http://127.0.0.1:8443', tokenUrl: 'https://test.salesforce.com/services/oauth2/token' });
    expect(value.instanceUrl).toBe('http://127.0.0.1:8443');
    expect(value.tokenUrl).toBe('https://test.salesforce.com/services/oauth2/token');
  });

  it.each([['61.0'], ['61'], ['v61.0'], ['v61'], [61]])('reads API version %j as 61.0', (apiVersion) => {
    expect(valueOf({ ...minimal, apiVersion }).apiVersion).toBe('61.0');
  });

  it.each([['61.5'], ['latest'], ['0'], [61.5], ['']])('refuses API version %j', (apiVersion) => {
    expect(errorsOf({ ...minimal, apiVersion }).map((e) => e.path)).toEqual(['salesforce.apiVersion']);
  });

  it('accepts namespaced API names', () => {
    expect(valueOf({ ...minimal, eventObject: 'acme__Stock_Changed__e', fields: { acme__Sku__c: 'data.sku' } }).eventObject).toBe('acme__Stock_Changed__e');
  });

  it('reports every problem at once, each with its path', () => {
    const errors = errorsOf({
      instanceUrl: 'ftp://acme.example',
      tokenUrl: 'not a url',
      apiVersion: 'sixty-one',
      eventObject: 'Stock_Changed__c',
      fields: { Sku__c: 'data.sku', 'Bad Name': 'id', Count__c: 'payload.count', Empty__c: '', Dots__c: 'data..sku' },
      auth: { grant: 'client_credentials', clientId: '', privateKey: 'x' },
      retries: 3,
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'salesforce.retries', message: 'is not a known key (check its spelling)' },
        { path: 'salesforce.fields.Empty__c', message: 'must not be empty' },
        { path: 'salesforce.auth.clientSecret', message: 'is required' },
        { path: 'salesforce.auth.privateKey', message: 'is not a known key (check its spelling)' },
        { path: 'salesforce.auth.clientId', message: 'must not be empty' },
        { path: 'salesforce.instanceUrl', message: '"ftp://acme.example" must be an http: or https: URL' },
        { path: 'salesforce.tokenUrl', message: '"not a url" is not an absolute URL' },
        { path: 'salesforce.apiVersion', message: '"sixty-one" is not an API version (such as 61.0)' },
        { path: 'salesforce.eventObject', message: `"Stock_Changed__c" is not a Platform Event's API name (such as Stock_Changed__e)` },
        { path: 'salesforce.fields.Bad Name', message: `"Bad Name" is not a custom field's API name (such as Sku__c)` },
        { path: 'salesforce.fields.Count__c', message: '"payload.count" must start with one of the event\'s keys: id, type, created, system, data' },
        { path: 'salesforce.fields.Dots__c', message: '"data..sku" is not a dotted path (such as data.sku)' },
      ]),
    );
    expect(errors).toHaveLength(12);
  });

  it('names missing keys and wrong types', () => {
    expect(errorsOf({ instanceUrl: 42, fields: [] })).toEqual([
      { path: 'salesforce.eventObject', message: 'is required' },
      { path: 'salesforce.auth', message: 'is required' },
      { path: 'salesforce.instanceUrl', message: 'must be a string' },
      { path: 'salesforce.fields', message: 'must be an object' },
    ]);
    expect(errorsOf('https://acme.my.salesforce.com')).toEqual([{ path: 'salesforce', message: 'must be an object' }]);
    expect(errorsOf(null)).toEqual([{ path: 'salesforce', message: 'must be an object' }]);
  });

  it('needs at least one field', () => {
    expect(errorsOf({ ...minimal, fields: {} })).toEqual([{ path: 'salesforce.fields', message: 'must map at least one field, such as {"Sku__c": "data.sku"}' }]);
  });

  it('refuses a query, a fragment or credentials in the instance URL', () => {
    expect(errorsOf({ ...minimal, instanceUrl: 'https://acme.my.salesforce.com/?x=1' })).toEqual([
      { path: 'salesforce.instanceUrl', message: '"https://acme.my.salesforce.com/?x=1" must not have a query or a fragment' },
    ]);
    expect(errorsOf({ ...minimal, instanceUrl: 'https://acme.my.salesforce.com/#top' })[0].path).toBe('salesforce.instanceUrl');
    expect(errorsOf({ ...minimal, instanceUrl: 'https://user:pw@acme.my.salesforce.com' })).toEqual([
      { path: 'salesforce.instanceUrl', message: 'must not carry credentials (they belong in auth)' },
    ]);
  });

  it('names the grant when it is missing or unknown', () => {
    expect(errorsOf({ ...minimal, auth: { clientId: 'x' } })).toEqual([{ path: 'salesforce.auth.grant', message: 'is required' }]);
    expect(errorsOf({ ...minimal, auth: { grant: 'password', clientId: 'x' } })).toEqual([
      { path: 'salesforce.auth.grant', message: '"password" is not a grant this server supports (client_credentials or jwt-bearer)' },
    ]);
    expect(errorsOf({ ...minimal, auth: { grant: 7 } })).toEqual([{ path: 'salesforce.auth.grant', message: 'must be client_credentials or jwt-bearer' }]);
  });

  describe('jwt-bearer', () => {
    const jwt = (privateKey: string) => ({ ...minimal, auth: { grant: 'jwt-bearer', clientId: 'app', username: 'u@acme.test', audience: 'https://test.salesforce.com', privateKey } });

    it('accepts an RSA private key in PEM', () => {
      const { privateKey } = pem('rsa');
      expect(valueOf(jwt(privateKey)).auth).toEqual({ grant: 'jwt-bearer', clientId: 'app', username: 'u@acme.test', audience: 'https://test.salesforce.com', privateKey });
    });

    it('requires every jwt-bearer key', () => {
      expect(errorsOf({ ...minimal, auth: { grant: 'jwt-bearer', clientId: 'app', clientSecret: 's' } })).toEqual([
        { path: 'salesforce.auth.username', message: 'is required' },
        { path: 'salesforce.auth.audience', message: 'is required' },
        { path: 'salesforce.auth.privateKey', message: 'is required' },
        { path: 'salesforce.auth.clientSecret', message: 'is not a known key (check its spelling)' },
      ]);
    });

    it('refuses what is not an RSA private key of 2048 bits or more', () => {
      const problem = (key: string) => {
        const errors = errorsOf(jwt(key));
        expect(errors.map((e) => e.path)).toEqual(['salesforce.auth.privateKey']);
        return errors[0].message;
      };
      expect(problem('not a key')).toMatch(/^must be an RSA private key in PEM .*could not be read/);
      expect(problem(pem('rsa').publicKey)).toMatch(/could not be read/);
      expect(problem(pem('ec').privateKey)).toBe('must be an RSA private key (RS256 signs with RSA), not an ec key');
      expect(problem(pem('rsa', 1024).privateKey)).toBe('must be an RSA key of at least 2048 bits for RS256, not 1024');
      for (const type of ['pkcs8', 'pkcs1'] as const) {
        const encrypted = generateKeyPairSync('rsa', {
          modulusLength: 2048,
          privateKeyEncoding: { type, format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        }).privateKey;
        expect(problem(encrypted)).toBe('must be an unencrypted RSA private key: this one needs a passphrase');
      }
    });
  });
});
