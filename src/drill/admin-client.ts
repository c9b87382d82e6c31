/**
 * The few admin API calls a drill makes (PRODUCT.md §5), against one workspace of a running understudy: the
 * same code drives a deployed server (--url) and the embedded one, so both modes exercise the public API.
 * Every failure becomes a DrillError naming the URL and what the server said, since a drill that cannot talk
 * to its server has nothing to report.
 */
import { DrillError } from './drill-error.js';

export interface AdminTarget {
  /** the server's root, e.g. http://127.0.0.1:8080 (a trailing slash or /w/... is not expected here) */
  url: string;
  workspace?: string;
  adminToken?: string;
}

/** GET /__admin/chaos, the fields the drill reads (ChaosEngine.describe()). */
export interface ChaosState {
  profile: { name: string; description?: string };
  activatedAt: string;
  elapsedMs: number;
  phase: { index: number; name: string; startedMs: number; endsInMs: number | null } | null;
  /** how the timeline got where it is: the activation, then every jump (ISO `at`) */
  timeline?: Array<{ at: string; elapsedMs: number; cause: 'activated' | 'restarted' | 'jump' }>;
  rules: Array<{ id: string; phase?: string | null; open: boolean; matched: number; injected: Record<string, number>; skipped: number }>;
}

/** GET /__admin/workspace, the counters the progress line reads. */
export interface WorkspaceState {
  counters: { requests: number; byStatus: Record<string, number> };
}

/** One entry of GET /__admin/journal (journal/views.ts toSummary), the fields the HTML plot needs. */
export interface JournalSummary {
  id: number;
  ts: string;
  client: string;
  system: string | null;
  /** `admin` for admin actions journaled beside the traffic (a timeline jump) */
  protocol?: string | null;
  operation: string | null;
  status: number;
}

export interface JournalPage {
  entries: JournalSummary[];
  nextCursor: string | null;
  total: number;
}

/** A problem+json answer, as the admin API sends them. */
interface Problem {
  title?: string;
  detail?: string;
  errors?: Array<{ line?: number; column?: number; path?: string; message?: string; name?: string }>;
}

export class AdminApiError extends DrillError {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    lines: string[],
  ) {
    super(lines);
  }
}

export class AdminClient {
  private readonly root: string;

  constructor(private readonly target: AdminTarget) {
    this.root = target.url.replace(/\/+$/, '');
  }

  /** where the workspace's traffic goes: the root, or root/w/W (what COMMAND gets as UNDERSTUDY_URL) */
  get trafficUrl(): string {
    return this.target.workspace ? `${this.root}/w/${encodeURIComponent(this.target.workspace)}` : this.root;
  }

  adminUrl(path: string, query: Record<string, string | undefined> = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
    const qs = params.toString();
    return `${this.trafficUrl}/__admin${path}${qs ? '?' + qs : ''}`;
  }

  /** activates a profile, sent as the text of its file (YAML or JSON), on the workspace */
  putProfile(text: string): Promise<ChaosState> {
    return this.send('PUT', '/chaos', {}, { body: text, contentType: 'application/yaml' });
  }

  /** jumps the active profile's timeline (POST /__admin/chaos/timeline) */
  moveTimeline(to: { at: string } | { phase: string }): Promise<ChaosState> {
    return this.send('POST', '/chaos/timeline', {}, { body: JSON.stringify(to), contentType: 'application/json' });
  }

  chaos(): Promise<ChaosState> {
    return this.send('GET', '/chaos');
  }

  workspace(): Promise<WorkspaceState> {
    return this.send('GET', '/workspace');
  }

  journal(query: Record<string, string | undefined>): Promise<JournalPage> {
    return this.send('GET', '/journal', query);
  }

  /** the report card; typed by the caller (src/report/types.ts) */
  report<T>(query: Record<string, string | undefined>): Promise<T> {
    return this.send('GET', '/report', query);
  }

  private async send<T>(method: string, path: string, query: Record<string, string | undefined> = {}, payload?: { body: string; contentType: string }): Promise<T> {
    const url = this.adminUrl(path, query);
    // the journal names whoever made an admin action it records (a timeline jump): this drill
    const headers: Record<string, string> = { accept: 'application/json', 'x-understudy-client': 'understudy-drill' };
    if (this.target.adminToken) headers.authorization = `Bearer ${this.target.adminToken}`;
    if (payload) headers['content-type'] = payload.contentType;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: payload?.body, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
      throw new DrillError([`cannot reach ${this.root} (${method} ${url}: ${why})`]);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok && body !== undefined) return body as T;
    if (res.ok) throw new DrillError([`${method} ${url} answered ${res.status} with something that is not JSON: is ${this.root} an understudy server?`]);
    const problem = (body ?? {}) as Problem;
    const said = problem.detail ?? problem.title ?? text.slice(0, 200);
    const lines = [`${method} ${url} answered ${res.status}: ${said}`];
    if (res.status === 401) lines.push('give the server\'s admin token with --admin-token');
    throw new AdminApiError(res.status, problem, lines);
  }
}
