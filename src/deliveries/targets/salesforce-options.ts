/**
 * A subscription's `salesforce` object: where its events are published as Platform Events and how the server
 * gets a token for that (SALESFORCE.md §1, §5). Checked once, when the subscription is created, so that a typo
 * is a 400 naming the key rather than a delivery failing at 3 a.m.: every problem is reported at once, each with
 * its path ("salesforce.auth.clientId"), unknown keys are refused, and a private key is read with node:crypto
 * here, not when the first token is due.
 *
 *   salesforce:
 *     instanceUrl: https://acme.my.salesforce.com      # http: too (a local fake org)
 *     tokenUrl: https://login.salesforce.com/services/oauth2/token   # default {instanceUrl}/services/oauth2/token
 *     apiVersion: "61.0"                               # also 61, "61" or "v61.0"
 *     eventObject: Stock_Changed__e
 *     fields: { Sku__c: data.sku, Event_Id__c: id }    # field API name: dotted path into the event
 *     auth: { grant: client_credentials, clientId: ..., clientSecret: ... }
 *        or { grant: jwt-bearer, clientId: ..., username: ..., audience: https://test.salesforce.com, privateKey: PEM }
 *
 * The shape is checked by a JSON Schema (ajv); what a schema says badly (URLs, API names, key material) by hand.
 */
import { createPrivateKey } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';

export type SalesforceAuth =
  | { grant: 'client_credentials'; clientId: string; clientSecret: string }
  | { grant: 'jwt-bearer'; clientId: string; username: string; audience: string; privateKey: string };

export interface SalesforceOptions {
  /** scheme, host and any path prefix, without a trailing slash */
  instanceUrl: string;
  tokenUrl: string;
  /** "61.0" */
  apiVersion: string;
  eventObject: string;
  /** event field API name → dotted path into the event ("data.sku", "id") */
  fields: Record<string, string>;
  auth: SalesforceAuth;
}

export interface OptionProblem {
  path: string;
  message: string;
}

export const DEFAULT_API_VERSION = '61.0';
/** the parts of an event a field may be mapped from (events/event.ts) */
const EVENT_KEYS = ['id', 'type', 'created', 'system', 'data'];
/**
 * Salesforce API names: a letter, then letters, digits and single underscores, not ending in one; a managed
 * package's namespace comes first with a double underscore (acme__Stock_Changed__e).
 */
const NAME = '[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)';
const EVENT_OBJECT = new RegExp(`^(?:${NAME}__)?${NAME}__e$`);
const CUSTOM_FIELD = new RegExp(`^(?:${NAME}__)?${NAME}__c$`);
const API_VERSION = /^v?(\d{1,3})(?:\.0)?$/;

const text = { type: 'string', minLength: 1 };
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['instanceUrl', 'eventObject', 'fields', 'auth'],
  properties: {
    instanceUrl: text,
    tokenUrl: text,
    apiVersion: { type: ['string', 'integer'] },
    eventObject: text,
    fields: { type: 'object', minProperties: 1, additionalProperties: text },
    auth: {
      type: 'object',
      required: ['grant'],
      discriminator: { propertyName: 'grant' },
      oneOf: [
        {
          additionalProperties: false,
          required: ['clientId', 'clientSecret'],
          properties: { grant: { const: 'client_credentials' }, clientId: text, clientSecret: text },
        },
        {
          additionalProperties: false,
          required: ['clientId', 'username', 'audience', 'privateKey'],
          properties: { grant: { const: 'jwt-bearer' }, clientId: text, username: text, audience: text, privateKey: text },
        },
      ],
    },
  },
} as const;

let validator: ReturnType<Ajv['compile']> | undefined;
/** compiled on first use: most servers never see a Platform Event subscription */
const validate = (data: unknown) => (validator ??= new Ajv({ allErrors: true, strict: false, discriminator: true }).compile(SCHEMA))(data);

export function parseSalesforceOptions(raw: unknown): { value: SalesforceOptions } | { errors: OptionProblem[] } {
  const problems = new Problems();
  if (!validate(raw)) for (const e of validator?.errors ?? []) problems.add(...fromSchema(e));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { errors: problems.list() };

  const o = raw as Record<string, unknown>;
  const instanceUrl = typeof o.instanceUrl === 'string' ? checkUrl(o.instanceUrl, 'instanceUrl', true, problems) : undefined;
  const tokenUrl = typeof o.tokenUrl === 'string' ? checkUrl(o.tokenUrl, 'tokenUrl', false, problems) : undefined;

  let apiVersion = DEFAULT_API_VERSION;
  if (typeof o.apiVersion === 'string' || typeof o.apiVersion === 'number') {
    const m = API_VERSION.exec(String(o.apiVersion));
    if (m && Number(m[1]) > 0) apiVersion = `${Number(m[1])}.0`;
    else problems.add('salesforce.apiVersion', `"${o.apiVersion}" is not an API version (such as 61.0)`);
  }

  if (typeof o.eventObject === 'string' && o.eventObject && !EVENT_OBJECT.test(o.eventObject)) {
    problems.add('salesforce.eventObject', `"${o.eventObject}" is not a Platform Event's API name (such as Stock_Changed__e)`);
  }

  const fields = o.fields !== null && typeof o.fields === 'object' && !Array.isArray(o.fields) ? (o.fields as Record<string, unknown>) : undefined;
  for (const [name, path] of Object.entries(fields ?? {})) {
    if (!CUSTOM_FIELD.test(name)) problems.add(`salesforce.fields.${name}`, `"${name}" is not a custom field's API name (such as Sku__c)`);
    if (typeof path === 'string' && path) {
      const segments = path.split('.');
      if (segments.some((s) => s === '' || /\s/.test(s))) problems.add(`salesforce.fields.${name}`, `"${path}" is not a dotted path (such as data.sku)`);
      else if (!EVENT_KEYS.includes(segments[0])) problems.add(`salesforce.fields.${name}`, `"${path}" must start with one of the event's keys: ${EVENT_KEYS.join(', ')}`);
    }
  }

  const auth = o.auth as Record<string, unknown> | undefined;
  if (auth && typeof auth === 'object' && auth.grant === 'jwt-bearer' && typeof auth.privateKey === 'string' && auth.privateKey) {
    const why = rsaKeyProblem(auth.privateKey);
    if (why) problems.add('salesforce.auth.privateKey', why);
  }

  if (problems.size || !instanceUrl) return { errors: problems.list() };
  return {
    value: {
      instanceUrl,
      tokenUrl: tokenUrl ?? `${instanceUrl}/services/oauth2/token`,
      apiVersion,
      eventObject: o.eventObject as string,
      fields: { ...(fields as Record<string, string>) },
      auth: { ...(auth as SalesforceAuth) },
    },
  };
}

/** Problems in the order found, one per path (the first is the one to fix). */
class Problems {
  private readonly byPath = new Map<string, string>();
  add(path: string, message: string): void {
    if (!this.byPath.has(path)) this.byPath.set(path, message);
  }
  get size(): number {
    return this.byPath.size;
  }
  list(): OptionProblem[] {
    return [...this.byPath].map(([path, message]) => ({ path, message }));
  }
}

function fromSchema(e: ErrorObject): [string, string] {
  const at = ['salesforce', ...e.instancePath.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))].join('.');
  const params = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'required':
      return [`${at}.${params.missingProperty}`, 'is required'];
    case 'additionalProperties':
      return [`${at}.${params.additionalProperty}`, 'is not a known key (check its spelling)'];
    case 'type':
      return [at, `must be ${([] as string[]).concat(params.type).map((t: string) => (t === 'object' || t === 'integer' ? `an ${t}` : `a ${t}`)).join(' or ')}`];
    case 'minLength':
      return [at, 'must not be empty'];
    case 'minProperties':
      return [at, 'must map at least one field, such as {"Sku__c": "data.sku"}'];
    case 'discriminator':
      // a missing grant is already reported as required
      if (params.error === 'tag') return [`${at}.grant`, 'must be client_credentials or jwt-bearer'];
      return [`${at}.grant`, `"${params.tagValue}" is not a grant this server supports (client_credentials or jwt-bearer)`];
    default:
      return [at, e.message ?? 'is invalid'];
  }
}

/** The URL without a trailing slash; instance URLs also refuse a query or fragment (paths are appended to them). */
function checkUrl(value: string, key: string, isBase: boolean, problems: Problems): string | undefined {
  const path = `salesforce.${key}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.add(path, `"${value}" is not an absolute URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.add(path, `"${value}" must be an http: or https: URL`);
  else if (url.username || url.password) problems.add(path, 'must not carry credentials (they belong in auth)');
  else if (url.hash || (isBase && url.search)) problems.add(path, `"${value}" must not have ${isBase ? 'a query or ' : ''}a fragment`);
  else return isBase ? `${url.origin}${url.pathname.replace(/\/+$/, '')}` : url.href;
  return undefined;
}

/** Why `pem` cannot sign RS256 JWTs, or undefined when it can. */
function rsaKeyProblem(pem: string): string | undefined {
  // OpenSSL's word for a key it has no passphrase for is "interrupted or cancelled": say what it means
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(pem)) return 'must be an unencrypted RSA private key: this one needs a passphrase';
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    return `must be an RSA private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----); it could not be read: ${(err as Error).message}`;
  }
  if (key.asymmetricKeyType !== 'rsa') return `must be an RSA private key (RS256 signs with RSA), not an ${key.asymmetricKeyType} key`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) return `must be an RSA key of at least 2048 bits for RS256, not ${bits}`;
  return undefined;
}
