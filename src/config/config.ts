/**
 * Server configuration (PRODUCT.md §1): defaults, then the --config file, then environment variables, then
 * command-line flags (yargs merges the last two, flags first). The file is validated against a schema; unknown
 * keys are errors that name the file and line. Keys of capabilities this version does not have yet (auth, tls,
 * the payment gateway and the ERP) are accepted and reported as ignored, so a
 * config written for the documented shape keeps working as those arrive. Relative paths in the file resolve
 * against the file's folder, so a config works from whatever directory the server is started in.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseClient, type OAuthClient } from '../auth/clients.js';
import { isBuiltInProfile } from '../chaos/profile.js';
import { DEFAULT_RETRY, parseRetryPolicy, type RetryPolicy } from '../deliveries/retry-policy.js';
import { CONFIG_FIELDS, MAX_CONCURRENCY, parseSubscription, type SubscriptionFields } from '../deliveries/subscriptions.js';
import { BUILT_IN_EVENT_TYPES } from '../systems/event-types.js';
import { ChangeRateError, parseChangeRate } from '../systems/wms/change-rate.js';
import type { TlsSettings } from '../tls/server-tls.js';
import { DURATION_FORMAT, parseBytes, parseDuration } from '../util/units.js';
import { positionalYaml, SourceError, YamlSource, type SourceProblem } from './yaml-source.js';

/**
 * How a system checks its callers (`systems.<name>.auth`): nothing (the X-Understudy-Client header names the
 * client), an OAuth bearer token from understudy's authorization server, an X-API-Key of auth.apiKeys, Basic
 * credentials of auth.users, a WS-Security UsernameToken (SOAP only), or a TLS client certificate (mutual TLS).
 */
export type SystemAuth = 'none' | 'oauth' | 'apikey' | 'basic' | 'wsse' | 'mtls';
export const SYSTEM_AUTHS: readonly SystemAuth[] = ['none', 'oauth', 'apikey', 'basic', 'wsse', 'mtls'];
/** what REST systems (and the ERP's OData services) accept: WS-Security is a SOAP header */
const HTTP_AUTHS = SYSTEM_AUTHS.filter((a) => a !== 'wsse');

export interface WmsConfig {
  enabled: boolean;
  auth: SystemAuth;
  skus: number;
  warehouses: number;
  /** background stock changes per second a workspace starts with (admins change it at runtime, per workspace) */
  changeRatePerSecond: number;
  /** active reservations older than this are released by the WMS itself (0: never) */
  reservationTtlMs: number;
}

export interface PaymentsConfig {
  enabled: boolean;
  auth: SystemAuth;
  /** how long after `POST /charges/{id}/capture` a capture settles */
  captureDelayMs: number;
  /** share of captures that fail (0..1), drawn from the seed */
  captureFailureRate: number;
  /** how long an Idempotency-Key and its stored response are kept after first use */
  idempotencyKeyTtlMs: number;
  /** largest charge or refund amount, in minor units (at most 99999999, the contract's cap) */
  maxAmount: number;
}

export interface ErpConfig {
  enabled: boolean;
  /** seeded sizes: every workspace starts from the same seeded customers, invoices and invoice lines */
  customers: number;
  invoices: number;
  invoiceLines: number;
  /**
   * how callers are checked, on the SOAP endpoint and both OData services (wsse: SOAP only, the OData services
   * then check nothing)
   */
  auth: SystemAuth;
  /**
   * the OAuth scopes an operation needs (auth: oauth): `read` for every read, `write` for every write, or an
   * operation by name (`GetCustomer`, `Customers.update`); default erp.read and erp.write
   */
  scopes: Record<string, string[]>;
  /** which OData versions require the SAP CSRF token on writes (X-CSRF-Token: Fetch, then echo it) */
  csrf: 'v2' | 'v4' | 'both' | 'none';
  /** OData server-driven paging: rows per page, 1..2000 (Salesforce Connect refuses larger pages) */
  odataPageSize: number;
}

/** Salesforce Connect refuses server-driven pages larger than this (SALESFORCE.md §3) */
export const MAX_ODATA_PAGE_SIZE = 2000;

export interface OutboundConfig {
  /** the receiver for Salesforce Outbound Messages at /sfdc/outbound */
  enabled: boolean;
}

/** `auth:` (PRODUCT.md §1): the authorization server's clients and settings, and the other credentials systems accept. */
export interface AuthConfig {
  /** Basic, WS-Security and password-grant users */
  users: Array<{ username: string; password: string }>;
  /** lifetime of the access tokens the authorization server issues */
  tokenTtlMs: number;
  /** the status a protected system answers a missing, expired, revoked or unknown token with (401: Named Credentials refresh) */
  invalidTokenStatus: number;
  /** the authorization code flow skips the consent page (for tests) */
  autoApprove: boolean;
  /** OAuth clients known in every workspace */
  clients: OAuthClient[];
  /** X-API-Key values and the client each one is */
  apiKeys: Array<{ key: string; client: string }>;
}

/** the ERP's default scopes: reads erp.read, writes erp.write */
export const ERP_SCOPES: Record<string, string[]> = { read: ['erp.read'], write: ['erp.write'] };

export interface AlertsConfig {
  /** the fake Slack and PagerDuty sinks at /alerts */
  enabled: boolean;
}

/** A subscription declared in the config file (PRODUCT.md §1 `subscriptions:`). */
export interface ConfigSubscription extends SubscriptionFields {
  id: string;
  /** the workspace it belongs to (default: default) */
  workspace: string;
}

/** Delivery defaults (`deliveries:`), which a subscription's own retry/timeout/concurrency override. */
export interface DeliverySettings {
  timeoutMs: number;
  concurrency: number;
  retry: RetryPolicy;
}

export interface ServerConfig {
  port: number;
  host: string;
  seed: number;
  profile: string;
  /** add x-understudy-fault to replies carrying a fault */
  faultHeader: boolean;
  /** where state is stored; '' or 'none': in memory only */
  dataDir: string;
  /** process: a write survives the process being killed; power: also a power loss (fsync on every commit) */
  durability: 'process' | 'power';
  /** batch: the journal is persisted at most 250 ms behind; always: after every exchange */
  journal: { sync: 'batch' | 'always' };
  adminToken?: string;
  /** listen backlog: connections the kernel queues before the server accepts them */
  backlog: number;
  limits: {
    /** largest request body on the traffic path */
    bodyBytes: number;
    /** journal ring size per workspace: most entries, and most bytes they may take */
    journalEntries: number;
    journalBytes: number;
    /** what all workspaces' journals may take together (each may always keep its first chunk) */
    journalTotalBytes: number;
    /** bodies longer than this are kept truncated in the journal */
    journalBodyBytes: number;
    /** most workspaces alive at once */
    workspaces: number;
    /** per workspace and system: most terminal objects and change-feed history kept (oldest pruned first) */
    objects: number;
  };
  systems: { wms: WmsConfig; payments: PaymentsConfig; alerts: AlertsConfig; erp: ErpConfig; outbound: OutboundConfig };
  auth: AuthConfig;
  /** --no-auth: every system checks nothing, whatever systems.<name>.auth says */
  noAuth: boolean;
  /** --lenient: what a --contract document says that cannot be validated is served unvalidated (a warning), not refused */
  lenient: boolean;
  /** HTTPS (and mutual TLS with a CA): files, resolved */
  tls?: TlsSettings;
  /** systems.custom[].auth, by the contract option (FILE or FILE@/mount) it was declared with */
  contractAuth: Record<string, SystemAuth>;
  /**
   * systems.custom[].stateful (--stateful: every contract true), by the contract option; a contract not named
   * here is stateful when its document asks (x-understudy-stateful, x-understudy-resource)
   */
  contractStateful: Record<string, boolean>;
  deliveries: DeliverySettings;
  subscriptions: ConfigSubscription[];
  /** extra OpenAPI contracts to serve: FILE or FILE@/mount */
  contracts: string[];
  /** replicas share workspaces through this Redis (--redis, redis:); absent: this process alone */
  redis?: RedisSettings;
  /** things the config asked for that this version ignores */
  warnings: string[];
}

/** `redis:` / --redis: where replicas meet (replicas/redis-link.ts) */
export interface RedisSettings {
  /** redis://[user:password@]host[:port][/db], or rediss:// for TLS */
  url: string;
  /** every key starts with it (default `understudy`): deployments sharing one Redis keep apart */
  prefix?: string;
  /** this replica's name in health and delivery claims (default hostname-pid) */
  replicaId?: string;
  /** how long start-up waits for Redis (default 10 s; embedding and tests) */
  connectTimeoutMs?: number;
  /** how long a delivery's claim may go unrefreshed before another replica takes it over (default 30 s) */
  claimTimeoutMs?: number;
}

export const DEFAULTS: ServerConfig = {
  port: 8080,
  host: '127.0.0.1',
  seed: 42,
  profile: 'calm',
  faultHeader: false,
  dataDir: '.understudy',
  durability: 'process',
  journal: { sync: 'batch' },
  backlog: 4096,
  limits: { bodyBytes: 10 * 1024 * 1024, journalEntries: 100_000, journalBytes: 32 * 1024 * 1024, journalTotalBytes: 256 * 1024 * 1024, journalBodyBytes: 64 * 1024, workspaces: 100, objects: 100_000 },
  systems: {
    wms: { enabled: true, auth: 'none', skus: 1000, warehouses: 3, changeRatePerSecond: 0, reservationTtlMs: 24 * 3_600_000 },
    payments: { enabled: true, auth: 'none', captureDelayMs: 2000, captureFailureRate: 0, idempotencyKeyTtlMs: 24 * 3_600_000, maxAmount: 99_999_999 },
    alerts: { enabled: true },
    erp: { enabled: true, customers: 500, invoices: 10_000, invoiceLines: 1_000_000, auth: 'none', scopes: ERP_SCOPES, csrf: 'v2', odataPageSize: 1000 },
    outbound: { enabled: true },
  },
  auth: { users: [], tokenTtlMs: 3_600_000, invalidTokenStatus: 401, autoApprove: false, clients: [], apiKeys: [] },
  noAuth: false,
  lenient: false,
  contractAuth: {},
  contractStateful: {},
  deliveries: { timeoutMs: 10_000, concurrency: 10, retry: DEFAULT_RETRY },
  subscriptions: [],
  contracts: [],
  warnings: [],
};

/** Values given on the command line or in UNDERSTUDY_* variables (already merged by yargs). */
export interface ConfigOverrides {
  port?: number;
  host?: string;
  seed?: number;
  profile?: string;
  faultHeader?: boolean;
  dataDir?: string;
  adminToken?: string;
  backlog?: number;
  contract?: string[];
  /** --wms-change-rate / UNDERSTUDY_WMS_CHANGE_RATE, already read as changes per second */
  wmsChangeRatePerSecond?: number;
  /** --tls-cert, --tls-key, --tls-ca, --require-client-cert: the twins of the file's tls keys */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  requireClientCert?: boolean;
  /** --no-auth */
  noAuth?: boolean;
  /** --lenient / UNDERSTUDY_LENIENT */
  lenient?: boolean;
  /** --stateful: every contract served with state */
  stateful?: boolean;
  /** --redis, --redis-prefix, --replica-id */
  redis?: string;
  redisPrefix?: string;
  replicaId?: string;
}

const duration = { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' };
const size = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\d+(\\.\\d+)?(b|kb|mb|gb)$' }] };
const NOT_YET: string[] = [];
const auth = { enum: HTTP_AUTHS };
const scopeList = { type: 'array', maxItems: 100, items: { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}$' } };

const FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    host: { type: 'string', minLength: 1 },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    profile: { type: 'string', minLength: 1 },
    faultHeader: { type: 'boolean' },
    lenient: { type: 'boolean' },
    dataDir: { type: 'string', minLength: 1 },
    durability: { enum: ['process', 'power'] },
    journal: { type: 'object', additionalProperties: false, properties: { sync: { enum: ['batch', 'always'] } } },
    adminToken: { type: 'string', minLength: 8 },
    redis: {
      anyOf: [
        { type: 'string', pattern: '^rediss?://' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', pattern: '^rediss?://' },
            prefix: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
            replicaId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
            claimTimeout: duration,
          },
        },
      ],
    },
    backlog: { type: 'integer', minimum: 1, maximum: 65535 },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bodyBytes: size,
        journalEntries: { type: 'integer', minimum: 1, maximum: 10_000_000 },
        journalBytes: size,
        journalTotalBytes: size,
        journalBodyBytes: size,
        workspaces: { type: 'integer', minimum: 1, maximum: 100_000 },
        objects: { type: 'integer', minimum: 100, maximum: 100_000_000 },
      },
    },
    systems: {
      type: 'object',
      additionalProperties: false,
      properties: {
        wms: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            skus: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            warehouses: { type: 'integer', minimum: 1, maximum: 10 },
            changeRate: { type: 'string', pattern: '^\\d+(\\.\\d+)?/(s|m|h)$' },
            reservationTtl: { anyOf: [duration, { const: 0 }, { const: '0' }] },
            auth,
          },
        },
        payments: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            captureDelay: { anyOf: [duration, { const: 0 }, { const: '0' }] },
            captureFailureRate: { type: 'number', minimum: 0, maximum: 1 },
            idempotencyKeyTtl: duration,
            maxAmount: { type: 'integer', minimum: 1, maximum: 99_999_999 },
            auth,
          },
        },
        alerts: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
        erp: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            customers: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            invoices: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            invoiceLines: { type: 'integer', minimum: 1, maximum: 50_000_000 },
            auth: { enum: SYSTEM_AUTHS },
            scopes: { type: 'object', maxProperties: 100, additionalProperties: scopeList },
            csrf: { enum: ['v2', 'v4', 'both', 'none'] },
            odataPageSize: { type: 'integer', minimum: 1 },
          },
        },
        outbound: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
        custom: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['contract'],
            properties: { contract: { type: 'string', minLength: 1 }, mount: { type: 'string', pattern: '^/' }, auth, stateful: { type: 'boolean' } },
          },
        },
      },
    },
    deliveries: {
      type: 'object',
      additionalProperties: false,
      properties: { timeout: duration, concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY }, retry: { type: 'object' } },
    },
    // each item is checked by parseSubscription (deliveries/subscriptions.ts), as the admin API checks it
    subscriptions: { type: 'array', maxItems: 1000, items: { type: 'object' } },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        users: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['username', 'password'],
            properties: { username: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,80}$' }, password: { type: 'string', minLength: 1, maxLength: 1000 } },
          },
        },
        tokenTtl: duration,
        invalidTokenStatus: { type: 'integer', minimum: 400, maximum: 999 },
        autoApprove: { type: 'boolean' },
        // each item is checked by parseClient (auth/clients.ts), as the admin API checks it
        clients: { type: 'array', maxItems: 1000, items: { type: 'object' } },
        apiKeys: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['key', 'client'],
            properties: { key: { type: 'string', minLength: 8, maxLength: 512 }, client: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,80}$' } },
          },
        },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: { cert: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 }, ca: { type: 'string', minLength: 1 }, requireClientCert: { type: 'boolean' } },
    },
    ...Object.fromEntries(NOT_YET.map((k) => [k, {}])),
  },
} as const;

let fileValidator: ReturnType<Ajv['compile']> | undefined;
/** compiled on first use: most runs have no config file, and start-up time counts */
const validateFile = (data: unknown) => (fileValidator ??= new Ajv({ allErrors: true, strict: false }).compile(FILE_SCHEMA))(data);

type FileConfig = {
  port?: number;
  host?: string;
  seed?: number;
  profile?: string;
  faultHeader?: boolean;
  lenient?: boolean;
  dataDir?: string;
  durability?: 'process' | 'power';
  journal?: { sync?: 'batch' | 'always' };
  adminToken?: string;
  redis?: string | { url: string; prefix?: string; replicaId?: string; claimTimeout?: string };
  backlog?: number;
  limits?: { bodyBytes?: string | number; journalEntries?: number; journalBytes?: string | number; journalTotalBytes?: string | number; journalBodyBytes?: string | number; workspaces?: number; objects?: number };
  systems?: {
    wms?: { enabled?: boolean; auth?: SystemAuth; skus?: number; warehouses?: number; changeRate?: string; reservationTtl?: string | number };
    payments?: { enabled?: boolean; auth?: SystemAuth; captureDelay?: string | number; captureFailureRate?: number; idempotencyKeyTtl?: string; maxAmount?: number };
    alerts?: { enabled?: boolean };
    erp?: { enabled?: boolean; customers?: number; invoices?: number; invoiceLines?: number; auth?: SystemAuth; scopes?: Record<string, string[]>; csrf?: string; odataPageSize?: number };
    outbound?: { enabled?: boolean };
    custom?: Array<{ contract: string; mount?: string; auth?: SystemAuth; stateful?: boolean }>;
  };
  deliveries?: { timeout?: string; concurrency?: number; retry?: Record<string, unknown> };
  subscriptions?: Array<Record<string, unknown>>;
  auth?: {
    users?: Array<{ username: string; password: string }>;
    tokenTtl?: string;
    invalidTokenStatus?: number;
    autoApprove?: boolean;
    clients?: Array<Record<string, unknown>>;
    apiKeys?: Array<{ key: string; client: string }>;
  };
  tls?: { cert: string; key: string; ca?: string; requireClientCert?: boolean };
  /** the file's subscriptions, retry policy and OAuth clients as checked by readConfigFile */
  checked?: { retry: RetryPolicy; subscriptions: ConfigSubscription[]; clients: OAuthClient[] };
} & Record<string, unknown>;

/** Reads and validates a config file; throws SourceError listing every problem with file:line:column. */
export function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): FileConfig {
  const source = YamlSource.read(file);
  const problems: SourceProblem[] = [];
  // ${VAR} from the environment, in every string value
  const { isScalar, visit } = positionalYaml();
  visit(source.doc, {
    Scalar(_key, node, path) {
      if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
        const value = env[name];
        if (value === undefined) {
          const at = (path as readonly unknown[]).filter(isPair).map((p) => String((p.key as { value?: unknown })?.value ?? ''));
          problems.push(source.problemAt(at, `environment variable ${name} is not set`));
          return '';
        }
        return value;
      });
    },
  });
  const data = source.toJS() ?? {};
  if (!validateFile(data)) {
    for (const e of fileValidator?.errors ?? []) {
      // anyOf reports each failed branch and then itself; the anyOf message is the one a user can act on
      if (e.schemaPath.includes('/anyOf/')) continue;
      problems.push(source.problemAt(errorPath(e), describe(e), e.keyword === 'additionalProperties' ? 'key' : 'value'));
    }
  }
  const config = data as FileConfig;
  if (problems.length === 0) config.checked = { ...checkDeliveries(config, source, problems), clients: checkClients(config, source, dirname(resolve(file)), problems) };
  const changeRate = (data as FileConfig).systems?.wms?.changeRate;
  // the schema checked the form (N/s, N/m, N/h); this is the ceiling, which a pattern cannot say
  if (typeof changeRate === 'string' && !problems.some((p) => p.path === 'systems.wms.changeRate')) {
    try {
      parseChangeRate(changeRate);
    } catch (err) {
      if (!(err instanceof ChangeRateError)) throw err;
      problems.push(source.problemAt(['systems', 'wms', 'changeRate'], err.message));
    }
  }
  if (problems.length) throw new SourceError(dedupe(problems));
  return relativeTo(dirname(resolve(file)), config);
}

const WORKSPACE = /^[A-Za-z0-9-]{1,40}$/;
const SUBSCRIPTION_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The file's delivery retry policy and subscriptions, checked the way the admin API checks them, with lines. */
function checkDeliveries(config: FileConfig, source: YamlSource, problems: SourceProblem[]): { retry: RetryPolicy; subscriptions: ConfigSubscription[] } {
  const at = (prefix: Array<string | number>, dotted: string) => [...prefix, ...(dotted ? dotted.split('.').map((t) => (/^\d+$/.test(t) ? Number(t) : t)) : [])];
  let retry = DEFAULT_RETRY;
  if (config.deliveries?.retry !== undefined) {
    const parsed = parseRetryPolicy(config.deliveries.retry, DEFAULT_RETRY);
    if ('errors' in parsed) for (const e of parsed.errors) problems.push(source.problemAt(at(['deliveries', 'retry'], e.path.replace(/^retry\.?/, '')), e.message));
    else retry = parsed.value;
  }
  const subscriptions: ConfigSubscription[] = [];
  const ids = new Set<string>();
  (config.subscriptions ?? []).forEach((raw, i) => {
    const parsed = parseSubscription(raw, BUILT_IN_EVENT_TYPES, { retry }, CONFIG_FIELDS);
    if ('errors' in parsed) {
      for (const e of parsed.errors) problems.push(source.problemAt(at(['subscriptions', i], e.path), e.message, e.message.startsWith('unknown field') ? 'key' : 'value'));
      return;
    }
    const workspace = raw.workspace ?? 'default';
    if (typeof workspace !== 'string' || !WORKSPACE.test(workspace)) {
      problems.push(source.problemAt(['subscriptions', i, 'workspace'], 'a workspace name is 1-40 letters, digits and -'));
      return;
    }
    const id = raw.id ?? `config-${i + 1}`;
    if (typeof id !== 'string' || !SUBSCRIPTION_ID.test(id) || id.startsWith('sub_')) {
      problems.push(source.problemAt(['subscriptions', i, 'id'], 'an id is 1-64 of A-Z a-z 0-9 . _ - and does not start with sub_ (the admin API\'s ids)'));
      return;
    }
    if (ids.has(`${workspace.toLowerCase()}/${id}`)) {
      problems.push(source.problemAt(['subscriptions', i, 'id'], `the id ${id} is used twice in workspace ${workspace}`));
      return;
    }
    ids.add(`${workspace.toLowerCase()}/${id}`);
    subscriptions.push({ ...parsed.value, id, workspace: workspace.toLowerCase() });
  });
  return { retry, subscriptions };
}

/**
 * The file's OAuth clients, checked the way the admin API checks them, with lines. `certificate` and a string
 * `jwks` are files (relative to the config file's folder), read here; an inline `jwks` object is taken as it is.
 */
function checkClients(config: FileConfig, source: YamlSource, folder: string, problems: SourceProblem[]): OAuthClient[] {
  const clients: OAuthClient[] = [];
  const ids = new Set<string>();
  (config.auth?.clients ?? []).forEach((raw, i) => {
    const fields: Record<string, unknown> = { ...raw };
    for (const key of ['certificate', 'jwks'] as const) {
      const path = fields[key];
      if (typeof path !== 'string') continue;
      try {
        const text = readFileSync(isAbsolute(path) ? path : resolve(folder, path), 'utf8');
        fields[key] = key === 'jwks' ? JSON.parse(text) : text;
      } catch (err) {
        const why = err instanceof SyntaxError ? `is not JSON (${err.message})` : `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
        problems.push(source.problemAt(['auth', 'clients', i, key], `${path} ${why}`));
        return;
      }
    }
    const parsed = parseClient(fields, 'config');
    if ('errors' in parsed) {
      for (const e of parsed.errors) {
        const at = ['auth', 'clients', i, ...(e.path ? e.path.split('.').map((t) => (/^\d+$/.test(t) ? Number(t) : t)) : [])];
        problems.push(source.problemAt(at, e.message, e.message.startsWith('unknown field') ? 'key' : 'value'));
      }
      return;
    }
    if (ids.has(parsed.client.id)) {
      problems.push(source.problemAt(['auth', 'clients', i, 'id'], `the client id ${parsed.client.id} is used twice`));
      return;
    }
    ids.add(parsed.client.id);
    clients.push(parsed.client);
  });
  return clients;
}

/**
 * The file's paths, resolved against its folder: a profile file (a built-in name stays a name), the data
 * directory, custom contracts, and the TLS files.
 */
function relativeTo(folder: string, config: FileConfig): FileConfig {
  const local = (path: string) => (isAbsolute(path) ? path : resolve(folder, path));
  if (config.profile !== undefined && !isBuiltInProfile(config.profile)) config.profile = local(config.profile);
  // `none` is the documented "memory only" value, not a folder
  if (config.dataDir !== undefined && config.dataDir !== 'none') config.dataDir = local(config.dataDir);
  for (const custom of config.systems?.custom ?? []) custom.contract = local(custom.contract);
  const tls = config.tls;
  if (tls) for (const key of ['cert', 'key', 'ca'] as const) if (typeof tls[key] === 'string') tls[key] = local(tls[key]);
  return config;
}

function isPair(node: unknown): node is { key: unknown } {
  return typeof node === 'object' && node !== null && 'key' in node && 'value' in node;
}

function errorPath(e: ErrorObject): Array<string | number> {
  const tokens = e.instancePath.split('/').slice(1).map((t) => (/^\d+$/.test(t) ? Number(t) : t.replace(/~1/g, '/').replace(/~0/g, '~')));
  if (e.keyword === 'additionalProperties') tokens.push((e.params as { additionalProperty: string }).additionalProperty);
  return tokens;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'unknown key (check its spelling against the documented configuration)';
  if (e.keyword === 'enum') return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'pattern' && e.instancePath.endsWith('changeRate')) return 'must be a rate such as 0/s, 5/s or 120/m';
  if (e.keyword === 'anyOf' && e.instancePath.endsWith('reservationTtl')) return `must be ${DURATION_FORMAT}, or 0 for never`;
  if (e.keyword === 'anyOf' && e.instancePath === '/redis') {
    return `must be a Redis URL (redis://host:6379, rediss:// for TLS) or { url, prefix, replicaId, claimTimeout } with a URL, a prefix and id of 1-64 letters, digits, '_', '.' or '-', and claimTimeout ${DURATION_FORMAT}`;
  }
  if (e.keyword === 'anyOf') return 'must be a size such as 512kb, 10mb or a number of bytes';
  return e.message ?? 'is invalid';
}

function dedupe(problems: SourceProblem[]): SourceProblem[] {
  const seen = new Set<string>();
  // anyOf reports each failed branch too; keep one message per place
  return problems.filter((p) => {
    const k = `${p.line}:${p.column}:${p.path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Defaults < file < environment < flags. */
export function resolveConfig(file: FileConfig | undefined, overrides: ConfigOverrides): ServerConfig {
  const f = file ?? {};
  const warnings: string[] = [];
  for (const key of NOT_YET) if (f[key] !== undefined) warnings.push(`"${key}" is not implemented in this version and is ignored`);
  const erp = f.systems?.erp ?? {};
  const erpDefaults = DEFAULTS.systems.erp;
  const wms = f.systems?.wms ?? {};
  const payments = f.systems?.payments ?? {};
  const paymentDefaults = DEFAULTS.systems.payments;
  const config: ServerConfig = {
    port: overrides.port ?? f.port ?? DEFAULTS.port,
    host: overrides.host ?? f.host ?? DEFAULTS.host,
    seed: overrides.seed ?? f.seed ?? DEFAULTS.seed,
    profile: overrides.profile ?? f.profile ?? DEFAULTS.profile,
    faultHeader: overrides.faultHeader ?? f.faultHeader ?? DEFAULTS.faultHeader,
    dataDir: overrides.dataDir ?? f.dataDir ?? DEFAULTS.dataDir,
    durability: f.durability ?? DEFAULTS.durability,
    journal: { sync: f.journal?.sync ?? DEFAULTS.journal.sync },
    adminToken: overrides.adminToken ?? f.adminToken ?? undefined,
    backlog: overrides.backlog ?? f.backlog ?? DEFAULTS.backlog,
    limits: {
      bodyBytes: f.limits?.bodyBytes !== undefined ? parseBytes(f.limits.bodyBytes) : DEFAULTS.limits.bodyBytes,
      journalEntries: f.limits?.journalEntries ?? DEFAULTS.limits.journalEntries,
      journalBytes: f.limits?.journalBytes !== undefined ? parseBytes(f.limits.journalBytes) : DEFAULTS.limits.journalBytes,
      journalTotalBytes: f.limits?.journalTotalBytes !== undefined ? parseBytes(f.limits.journalTotalBytes) : DEFAULTS.limits.journalTotalBytes,
      journalBodyBytes: f.limits?.journalBodyBytes !== undefined ? parseBytes(f.limits.journalBodyBytes) : DEFAULTS.limits.journalBodyBytes,
      workspaces: f.limits?.workspaces ?? DEFAULTS.limits.workspaces,
      objects: f.limits?.objects ?? DEFAULTS.limits.objects,
    },
    systems: {
      wms: {
        enabled: wms.enabled ?? DEFAULTS.systems.wms.enabled,
        auth: wms.auth ?? DEFAULTS.systems.wms.auth,
        skus: wms.skus ?? DEFAULTS.systems.wms.skus,
        warehouses: wms.warehouses ?? DEFAULTS.systems.wms.warehouses,
        changeRatePerSecond: overrides.wmsChangeRatePerSecond ?? (wms.changeRate !== undefined ? fileChangeRate(wms.changeRate) : DEFAULTS.systems.wms.changeRatePerSecond),
        reservationTtlMs:
          wms.reservationTtl === undefined ? DEFAULTS.systems.wms.reservationTtlMs : String(wms.reservationTtl) === '0' ? 0 : parseDuration(String(wms.reservationTtl)),
      },
      payments: {
        enabled: payments.enabled ?? paymentDefaults.enabled,
        auth: payments.auth ?? paymentDefaults.auth,
        captureDelayMs:
          payments.captureDelay === undefined ? paymentDefaults.captureDelayMs : String(payments.captureDelay) === '0' ? 0 : parseDuration(String(payments.captureDelay)),
        captureFailureRate: payments.captureFailureRate ?? paymentDefaults.captureFailureRate,
        idempotencyKeyTtlMs: payments.idempotencyKeyTtl !== undefined ? parseDuration(payments.idempotencyKeyTtl) : paymentDefaults.idempotencyKeyTtlMs,
        maxAmount: payments.maxAmount ?? paymentDefaults.maxAmount,
      },
      alerts: { enabled: f.systems?.alerts?.enabled ?? DEFAULTS.systems.alerts.enabled },
      erp: {
        enabled: erp.enabled ?? erpDefaults.enabled,
        customers: erp.customers ?? erpDefaults.customers,
        invoices: erp.invoices ?? erpDefaults.invoices,
        invoiceLines: erp.invoiceLines ?? erpDefaults.invoiceLines,
        auth: erp.auth ?? erpDefaults.auth,
        scopes: { ...erpDefaults.scopes, ...erp.scopes },
        csrf: (erp.csrf as ErpConfig['csrf'] | undefined) ?? erpDefaults.csrf,
        odataPageSize: erp.odataPageSize ?? erpDefaults.odataPageSize,
      },
      outbound: { enabled: f.systems?.outbound?.enabled ?? DEFAULTS.systems.outbound.enabled },
    },
    auth: {
      users: (f.auth?.users ?? []).map((u) => ({ ...u })),
      tokenTtlMs: f.auth?.tokenTtl !== undefined ? parseDuration(f.auth.tokenTtl) : DEFAULTS.auth.tokenTtlMs,
      invalidTokenStatus: f.auth?.invalidTokenStatus ?? DEFAULTS.auth.invalidTokenStatus,
      autoApprove: f.auth?.autoApprove ?? DEFAULTS.auth.autoApprove,
      clients: f.checked?.clients ?? [],
      apiKeys: (f.auth?.apiKeys ?? []).map((k) => ({ ...k })),
    },
    noAuth: overrides.noAuth ?? DEFAULTS.noAuth,
    lenient: overrides.lenient ?? f.lenient ?? DEFAULTS.lenient,
    tls: tlsSettings(f.tls, overrides),
    contractAuth: Object.fromEntries((f.systems?.custom ?? []).filter((c) => c.auth).map((c) => [c.mount ? `${c.contract}@${c.mount}` : c.contract, c.auth!])),
    contractStateful: Object.fromEntries([
      ...(f.systems?.custom ?? []).filter((c) => c.stateful !== undefined).map((c): [string, boolean] => [c.mount ? `${c.contract}@${c.mount}` : c.contract, c.stateful!]),
      // --stateful beats the file, as every flag does
      ...(overrides.stateful ? [...(f.systems?.custom ?? []).map((c) => (c.mount ? `${c.contract}@${c.mount}` : c.contract)), ...(overrides.contract ?? [])].map((c): [string, boolean] => [c, true]) : []),
    ]),
    deliveries: {
      timeoutMs: f.deliveries?.timeout !== undefined ? parseDuration(f.deliveries.timeout) : DEFAULTS.deliveries.timeoutMs,
      concurrency: f.deliveries?.concurrency ?? DEFAULTS.deliveries.concurrency,
      retry: f.checked?.retry ?? DEFAULTS.deliveries.retry,
    },
    subscriptions: f.checked?.subscriptions ?? [],
    contracts: [...(f.systems?.custom ?? []).map((c) => (c.mount ? `${c.contract}@${c.mount}` : c.contract)), ...(overrides.contract ?? [])],
    redis: redisSettings(f.redis, overrides),
    warnings,
  };
  checkConfig(config);
  return config;
}

export class ConfigError extends Error {}

/** The file's tls keys, each replaced by its flag when given; undefined when neither names a certificate. */
function tlsSettings(file: FileConfig['tls'], o: ConfigOverrides): TlsSettings | undefined {
  const cert = o.tlsCert ?? file?.cert;
  const key = o.tlsKey ?? file?.key;
  const ca = o.tlsCa ?? file?.ca;
  const requireClientCert = o.requireClientCert ?? file?.requireClientCert ?? false;
  if (cert === undefined && key === undefined && ca === undefined && !requireClientCert) return undefined;
  if (cert === undefined || key === undefined) throw new ConfigError('HTTPS needs both a certificate and its key: --tls-cert and --tls-key (tls.cert and tls.key in a config file)');
  if (requireClientCert && ca === undefined) throw new ConfigError('--require-client-cert needs --tls-ca (tls.ca): the CA client certificates must chain to');
  return { cert, key, ...(ca !== undefined ? { ca } : {}), requireClientCert };
}

/** `redis:` (a URL, or url/prefix/replicaId), each part replaced by its flag; undefined when neither names a URL */
function redisSettings(file: FileConfig['redis'], o: ConfigOverrides): RedisSettings | undefined {
  const f = typeof file === 'string' ? { url: file } : file;
  const url = o.redis ?? f?.url;
  if (url === undefined) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(url)) throw new ConfigError(`--redis ${url} is not a Redis URL: use redis://host:port (or rediss:// for TLS)`);
  const prefix = o.redisPrefix ?? f?.prefix;
  const replicaId = o.replicaId ?? f?.replicaId;
  const claimTimeout = typeof file === 'object' ? file.claimTimeout : undefined;
  return {
    url,
    ...(prefix !== undefined ? { prefix } : {}),
    ...(replicaId !== undefined ? { replicaId } : {}),
    ...(claimTimeout !== undefined ? { claimTimeoutMs: parseDuration(claimTimeout) } : {}),
  };
}

/** systems.wms.changeRate as changes per second (readConfigFile has checked it; a config built in code may not be) */
function fileChangeRate(rate: string): number {
  try {
    return parseChangeRate(rate).perSecond;
  } catch (err) {
    if (!(err instanceof ChangeRateError)) throw err;
    throw new ConfigError(`systems.wms.changeRate ${JSON.stringify(rate)} ${err.message}`);
  }
}

function checkConfig(c: ServerConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) problems.push(`port ${c.port} is not a TCP port (0-65535)`);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 4294967295) problems.push(`seed ${c.seed} must be an integer from 0 to 4294967295`);
  if (c.adminToken !== undefined && c.adminToken.length < 8) problems.push('the admin token must be at least 8 characters');
  if (!Number.isInteger(c.backlog) || c.backlog < 1 || c.backlog > 65535) problems.push(`backlog ${c.backlog} must be an integer from 1 to 65535`);
  if (c.limits.journalBytes > 2 ** 31 || c.limits.journalBytes < 64 * 1024) problems.push('limits.journalBytes must be between 64kb and 2gb');
  if (c.limits.journalTotalBytes < c.limits.journalBytes) problems.push('limits.journalTotalBytes must be at least limits.journalBytes');
  if (c.limits.journalBodyBytes * 4 > c.limits.journalBytes) problems.push('limits.journalBodyBytes must be at most a quarter of limits.journalBytes');
  if (!isLoopback(c.host) && !c.adminToken) {
    problems.push(`refusing to listen on ${c.host} without an admin token: set --admin-token or UNDERSTUDY_ADMIN_TOKEN (the admin API can reset state and read secrets-redacted traffic)`);
  }
  const erp = c.systems.erp;
  if (erp.invoiceLines < erp.invoices) problems.push(`systems.erp.invoiceLines (${erp.invoiceLines}) must be at least systems.erp.invoices (${erp.invoices}): every invoice has a line`);
  const protectedBy = [
    ...(['wms', 'payments', 'erp'] as const).filter((n) => c.systems[n].enabled).map((n) => ({ what: `systems.${n}.auth`, auth: c.systems[n].auth })),
    ...Object.entries(c.contractAuth).map(([contract, auth]) => ({ what: `the auth of ${contract}`, auth })),
  ];
  for (const { what, auth } of protectedBy) {
    if (c.noAuth) break;
    if ((auth === 'wsse' || auth === 'basic') && c.auth.users.length === 0) problems.push(`${what} is ${auth}, but auth.users names no user to accept`);
    if (auth === 'apikey' && c.auth.apiKeys.length === 0) problems.push(`${what} is apikey, but auth.apiKeys names no key to accept`);
    if (auth === 'mtls' && c.tls?.ca === undefined) problems.push(`${what} is mtls, but no CA is configured (--tls-ca, tls.ca) to verify client certificates against`);
  }
  const keys = c.auth.apiKeys.map((k) => k.key);
  if (keys.some((k, i) => keys.indexOf(k) !== i)) problems.push('auth.apiKeys lists one key more than once');
  const ttl = c.auth.tokenTtlMs;
  if (!(ttl >= 1000 && ttl <= 366 * 24 * 3_600_000)) problems.push('auth.tokenTtl must be from 1s to 366d');
  const scopeWords = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
  for (const [op, list] of Object.entries(c.systems.erp.scopes)) {
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || !scopeWords.test(s))) problems.push(`systems.erp.scopes.${op} must be a list of scopes`);
  }
  if (!Number.isInteger(erp.odataPageSize) || erp.odataPageSize < 1 || erp.odataPageSize > MAX_ODATA_PAGE_SIZE) {
    problems.push(`systems.erp.odataPageSize ${erp.odataPageSize} must be an integer from 1 to ${MAX_ODATA_PAGE_SIZE}: Salesforce Connect refuses server-driven pages of more than 2,000 rows`);
  }
  const names = c.auth.users.map((u) => u.username);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) problems.push(`auth.users names ${[...new Set(twice)].join(', ')} more than once`);
  if (problems.length) throw new ConfigError(problems.join('\n'));
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::ffff:127.0.0.1';
}

export { SourceError };
