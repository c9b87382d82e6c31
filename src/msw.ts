/**
 * `understudy/msw`: understudy inside a Node test process, through msw (2.x) instead of a port.
 *
 *   const handle = await understudyHandlers({ contracts, profile, seed, baseUrl });
 *   const server = setupServer(...handle);
 *
 * builds the same systems, engine, chaos and journal a server would (understudy.ts), and returns msw request
 * handlers for the base URL (the whole server: `${baseUrl}/wms/v1/...` is /wms/v1/...) and for each contract that
 * names its own vendor base URL (`${contract.baseUrl}/pets` is that contract's mount + /pets). The requests are
 * answered by transports/msw-transport.ts, which says what each chaos disruption becomes. The array also carries
 * the in-process admin API: journal(), entry(), setProfile(), reset(), close(); the HTTP admin API (/__admin) is
 * not served through msw.
 *
 * Choices: built-in systems are mounted as a server mounts them (turn one off with systems.<name>.enabled:
 * false), so a suite that fakes the WMS needs nothing else; state is kept in memory unless config.dataDir says
 * otherwise; a contract with a baseUrl and no mount keeps the mount a server would give it (its first servers
 * URL's path), so its journal paths read the same as over HTTP.
 */
import { http, type HttpHandler } from 'msw';
import { loadProfile, profileFromText, type CompiledProfile } from './chaos/profile.js';
import type { ContractError, Effect, FaultRecord } from './engine/exchange.js';
import type { ResetScope, Workspace } from './engine/workspace.js';
import { encodeCursor, parseJournalQuery } from './admin/journal-query.js';
import { toFull, toSummary } from './journal/views.js';
import { loadContract } from './protocols/rest/contract.js';
import type { SystemAuth } from './config/config.js';
import type { ServerOptions } from './mounted-systems.js';
import { FetchTransport, routeMatches, type FetchRoute } from './transports/msw-transport.js';
import { createUnderstudy, type Understudy, type UnderstudyOptions } from './understudy.js';

export const DEFAULT_BASE_URL = 'http://understudy.local';

/** A contract to serve: a file, where to mount it, and the vendor base URL whose requests it answers. */
export interface UnderstudyContract {
  /** an OpenAPI 3.x file (YAML or JSON), relative to the working directory */
  file: string;
  /** where the server mounts it (default: its first servers URL's path, else /{file name}) */
  mount?: string;
  /** a vendor base URL intercepted for it, e.g. https://api.vendor.example/v2: `${baseUrl}/pets` is mount + /pets */
  baseUrl?: string;
  /** inferred CRUD over a record state (README "Stateful contracts"), as systems.custom[].stateful */
  stateful?: boolean;
  /** one of understudy's checks for the whole contract instead of its declared security, as systems.custom[].auth */
  auth?: SystemAuth;
}

export interface UnderstudyHandlersOptions {
  /** contracts to serve: "FILE" or "FILE@/mount" as on the command line, or an UnderstudyContract */
  contracts?: Array<string | UnderstudyContract>;
  /** the chaos profile: a built-in name (calm ...), a file, or the profile's YAML/JSON text (anything with a newline, or starting with {) */
  profile?: string;
  /** the seed everything generated and every chaos draw follows (default 42) */
  seed?: number;
  /** where the whole server answers (default http://understudy.local) */
  baseUrl?: string;
  /** the built-in systems' settings, as in a config file's systems: (all mounted unless enabled: false) */
  systems?: ServerOptions['systems'];
  /** callers and credentials, as in a config file's auth: */
  auth?: ServerOptions['auth'];
  /** any other server option (limits, noAuth, clock, scheduler, dataDir, faultHeader ...); the fields above win */
  config?: ServerOptions;
}

/** One journal entry as GET /__admin/journal lists it. */
export interface JournalSummary {
  id: number;
  ts: string;
  endedTs: string;
  workspace: string;
  system: string | null;
  protocol: string;
  operation: string | null;
  method: string;
  path: string;
  query: string;
  client: string;
  status: number;
  durationMs: number;
  key: string | null;
  faults: FaultRecord[];
  contract: { valid: boolean; errors: ContractError[] };
  effects: Effect[];
  auth: Record<string, unknown> | null;
  transportError?: string;
}

/** A page of the journal, as GET /__admin/journal answers it (newest first). */
export interface JournalPage {
  entries: JournalSummary[];
  nextCursor: string | null;
  total: number;
  capacity: number;
}

/** GET /__admin/journal's query fields (PRODUCT.md §5); numbers may be given as numbers. */
export type JournalQueryFields = Partial<Record<'system' | 'since' | 'until' | 'status' | 'fault' | 'client' | 'operation' | 'key' | 'limit' | 'cursor', string | number>>;

/** Which workspace an admin call is about (default: the default workspace, the one without /w/{name}). */
export interface InWorkspace {
  workspace?: string;
}

/** msw request handlers (spread them into setupServer) that also carry the in-process admin API. */
export interface UnderstudyHandlers extends Array<HttpHandler> {
  /** the journal, as GET /__admin/journal with the same query fields; throws naming a field it cannot take */
  journal(query?: JournalQueryFields, where?: InWorkspace): JournalPage;
  /** one entry in full (headers, bodies), as GET /__admin/journal/{id}; undefined when it is not there */
  entry(id: number, where?: InWorkspace): Record<string, unknown> | undefined;
  /** activates a chaos profile (a built-in name, a file, or YAML/JSON text) from now, as PUT /__admin/chaos; throws with every problem in it */
  setProfile(profile: string, where?: InWorkspace): void;
  /** back to the seeded start, as POST /__admin/reset (scope all, state, journal, chaos or deliveries) */
  reset(scope?: ResetScope, where?: InWorkspace): Promise<void>;
  /** stops deliveries and closes the store; the handlers then answer nothing, and msw passes their requests on as any it has no answer for */
  close(): Promise<void>;
  /** the base URL the whole server answers at */
  readonly baseUrl: string;
  /** the engine, workspaces, store and scheduler underneath, for what the calls above do not cover */
  readonly understudy: Understudy;
}

/** A profile value is text when it has a line break or starts like JSON; otherwise it names a built-in or a file. */
function isProfileText(profile: string): boolean {
  return profile.includes('\n') || /^\s*[{[]/.test(profile);
}

/** A base URL as a route's origin and path; a message naming `what` when it cannot be one. */
function parseBase(text: string, what: string): { origin: string; basePath: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${what} ${JSON.stringify(text)} is not an absolute URL (like ${DEFAULT_BASE_URL} or https://api.vendor.example/v2)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${what} ${JSON.stringify(text)} must be an http: or https: URL`);
  if (url.search || url.hash || url.username || url.password) throw new Error(`${what} ${JSON.stringify(text)} must be a scheme, host and path only (no query, fragment or credentials)`);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

/** a mount as buildSystems writes it: one leading slash, no doubled or trailing ones */
function normalizeMount(mount: string): string {
  return ('/' + mount).replace(/\/+/g, '/').replace(/\/$/, '');
}

/** The --contract options for buildSystems, and the vendor base URLs to route to their mounts. */
async function readContracts(contracts: UnderstudyHandlersOptions['contracts'] = []): Promise<{
  options: string[];
  vendors: Array<{ baseUrl: string; mount: string }>;
  stateful: Record<string, boolean>;
  auth: Record<string, SystemAuth>;
}> {
  const options: string[] = [];
  const vendors: Array<{ baseUrl: string; mount: string }> = [];
  // each setting keyed by the option it becomes, as the config file's systems.custom[] settings are
  const stateful: Record<string, boolean> = {};
  const auth: Record<string, SystemAuth> = {};
  for (const contract of contracts) {
    if (typeof contract === 'string') {
      options.push(contract);
      continue;
    }
    if (typeof contract?.file !== 'string' || contract.file === '') throw new Error('each contract needs a file (an OpenAPI 3.x document)');
    let mount = contract.mount === undefined ? undefined : normalizeMount(contract.mount);
    // the mount a server would give it, so the journal's paths read the same as over HTTP (a parse, no validation)
    if (contract.baseUrl !== undefined && mount === undefined) mount = (await loadContract(contract.file, { validate: false })).defaultMount;
    const option = mount === undefined ? contract.file : `${contract.file}@${mount}`;
    options.push(option);
    if (contract.stateful !== undefined) stateful[option] = contract.stateful;
    if (contract.auth !== undefined) auth[option] = contract.auth;
    if (contract.baseUrl !== undefined) vendors.push({ baseUrl: contract.baseUrl, mount: normalizeMount(mount!) });
  }
  return { options, vendors, stateful, auth };
}

export async function understudyHandlers(options: UnderstudyHandlersOptions = {}): Promise<UnderstudyHandlers> {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const routes: FetchRoute[] = [{ ...parseBase(baseUrl, 'baseUrl'), mount: '', workspaces: true }];
  const contracts = await readContracts(options.contracts);
  for (const vendor of contracts.vendors) routes.push({ ...parseBase(vendor.baseUrl, 'the contract baseUrl'), mount: vendor.mount, workspaces: false });
  const seen = new Set<string>();
  for (const r of routes) {
    const key = r.origin + r.basePath;
    if (seen.has(key)) throw new Error(`two of the base URLs given are ${key}: each base URL can lead to one place only`);
    seen.add(key);
  }

  const config = options.config ?? {};
  const profile = options.profile ?? config.profile;
  const serverOptions: UnderstudyOptions = {
    ...config,
    contracts: [...(config.contracts ?? []), ...contracts.options],
    contractStateful: { ...config.contractStateful, ...contracts.stateful },
    contractAuth: { ...config.contractAuth, ...contracts.auth },
    systems: { ...config.systems, ...options.systems },
    auth: { ...config.auth, ...options.auth },
    seed: options.seed ?? config.seed,
    profile: profile !== undefined && isProfileText(profile) ? undefined : profile,
    profileText: profile !== undefined && isProfileText(profile) ? { text: profile, source: 'understudyHandlers({ profile })' } : undefined,
  };
  const understudy = await createUnderstudy(serverOptions);
  const mounts = new Set(understudy.systems.map((s) => s.mount));
  for (const vendor of contracts.vendors) {
    if (!mounts.has(vendor.mount)) {
      await understudy.close();
      throw new Error(`the contract for ${vendor.baseUrl} is not mounted at ${vendor.mount} (mounted: ${[...mounts].join(', ')})`);
    }
  }

  const transport = new FetchTransport(understudy);
  let closed = false;
  // the most specific base first: a vendor's base URL under the server's own base is the vendor's
  routes.sort((a, b) => (b.origin + b.basePath).length - (a.origin + a.basePath).length);
  const handlers: HttpHandler[] = routes.map((route) =>
    http.all(new RegExp(`^${escapeRegExp(route.origin + route.basePath)}(?:/.*)?$`), ({ request }) => {
      if (closed || !routeMatches(route, new URL(request.url))) return undefined;
      return transport.answer(request, route);
    }),
  );

  const { engine, workspaces } = understudy;
  const workspaceOf = (where: InWorkspace = {}): Workspace => {
    const found = workspaces.lookup(where.workspace ?? 'default');
    if ('error' in found) throw new Error(found.error === 'invalid-name' ? `${JSON.stringify(where.workspace)} is not a workspace name (1-40 letters, digits and -)` : `the server already holds ${workspaces.limit} workspaces`);
    return found.workspace;
  };
  const compile = (text: string): CompiledProfile => (isProfileText(text) ? profileFromText(text, understudy.chaos.catalogue, 'setProfile()') : loadProfile(text, understudy.chaos.catalogue));

  const api = {
    baseUrl,
    understudy,
    journal(query: JournalQueryFields = {}, where?: InWorkspace): JournalPage {
      engine.flush();
      const journal = workspaceOf(where).journal;
      const asked = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
      const page = journal.query(parseJournalQuery(asked));
      return {
        entries: page.entries.map(toSummary) as unknown as JournalSummary[],
        nextCursor: page.nextCursor === null ? null : encodeCursor(page.nextCursor),
        total: page.total,
        capacity: journal.capacity,
      };
    },
    entry(id: number, where?: InWorkspace) {
      engine.flush();
      const entry = workspaceOf(where).journal.get(id);
      return entry ? toFull(entry) : undefined;
    },
    setProfile(profile: string, where?: InWorkspace) {
      understudy.chaos.activate(workspaceOf(where), compile(profile));
    },
    async reset(scope: ResetScope = 'all', where?: InWorkspace) {
      engine.flush();
      await workspaceOf(where).reset(scope);
    },
    close() {
      closed = true;
      return understudy.close();
    },
  };
  return Object.assign(handlers, api);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
