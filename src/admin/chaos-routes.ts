/**
 * GET /__admin/chaos: the workspace's active profile, where its timeline is, and per-rule counters.
 * PUT /__admin/chaos: activate another profile, sent as YAML or JSON (or ?profile=NAME for a built-in: names only,
 * never paths, so the admin API cannot be made to read the server's files). A profile
 * with problems is refused with all of them (line, column, what was expected) and the old one stays active;
 * that includes rules whose match names a system, operation or route the server does not mount.
 * POST /__admin/chaos/timeline: move the active profile's timeline, {"at": "90s"} (a point on it, counted from its
 * start) or {"phase": "outage"} (that phase's start), so that a drill need not sit through its calm minutes.
 * Counters, per-client draws and rate-limit windows carry on (chaos-stage.ts jump()); the move is stored (a
 * restart resumes the moved timeline) and journaled (operation chaos.timeline, admin/admin-journal.ts). A point
 * past the timeline's end, an unknown phase, or a profile in which nothing depends on time is refused with 400.
 */
import express, { type Express, type Request, type Response } from 'express';
import { isUtf8 } from 'node:buffer';
import { ChaosEngine, timelineEnd, TooManyJumpsError } from '../chaos/chaos-stage.js';
import type { MountCatalogue } from '../chaos/match.js';
import { loadBuiltInProfile, profileFromText, type CompiledProfile } from '../chaos/profile.js';
import { SourceError } from '../config/yaml-source.js';
import type { Engine } from '../engine/pipeline.js';
import type { Workspace } from '../engine/workspace.js';
import { suggestion } from '../util/did-you-mean.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';
import { journalAdminAction } from './admin-journal.js';

export interface ChaosControl {
  /** what the server mounts (every workspace mounts the same), to check a profile's match values against */
  readonly catalogue: MountCatalogue;
  /** makes `profile` the workspace's active one, starting now */
  activate(workspace: Workspace, profile: CompiledProfile): Promise<void> | undefined;
}

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

const TIMELINE_SHAPE = '{"at": "90s"} (a point on the timeline, from its start) or {"phase": "NAME"} (that phase\'s start)';

/** ms as a duration the profile (and this route) would take: 150000 → 150s, 240000 → 4m */
function asDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * The point a POST /__admin/chaos/timeline body asks for, on the profile's timeline (ms from its start), or what
 * is wrong with it. Nothing has changed either way.
 */
export function timelinePoint(profile: CompiledProfile, body: Buffer | undefined): { ms: number } | { problem: string } {
  if (body === undefined || body.length === 0) return { problem: `Send ${TIMELINE_SHAPE}.` };
  let parsed: unknown;
  try {
    if (!isUtf8(body)) throw new Error('not UTF-8');
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: `The body is not JSON: send ${TIMELINE_SHAPE}.` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: `The body must be a JSON object, ${TIMELINE_SHAPE}.` };
  const fields = parsed as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => k !== 'at' && k !== 'phase');
  if (unknown.length) return { problem: `Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: the body is ${TIMELINE_SHAPE}.` };
  if ('at' in fields && 'phase' in fields) return { problem: `Give either "at" or "phase", not both: ${TIMELINE_SHAPE}.` };
  if (!('at' in fields) && !('phase' in fields)) return { problem: `Say where to move the timeline: ${TIMELINE_SHAPE}.` };

  const end = timelineEnd(profile);
  if (end === undefined) {
    return { problem: `Nothing in profile ${profile.name} depends on time (no timeline, no when windows): there is no timeline to move.` };
  }
  let ms: number;
  if ('phase' in fields) {
    const phase = fields.phase;
    const names = profile.phases.map((p) => p.name);
    if (names.length === 0) return { problem: `Profile ${profile.name} has no timeline phases; move it with {"at": DURATION} instead.` };
    if (typeof phase !== 'string') return { problem: `phase must be the name of one of the profile's phases: ${names.join(', ')}.` };
    const found = profile.phases.find((p) => p.name === phase);
    if (!found) return { problem: `Profile ${profile.name} has no phase ${JSON.stringify(phase)}${suggestion(phase, names, `its phases: ${names.join(', ')}`)}.` };
    ms = found.startMs;
  } else {
    const at = fields.at;
    let parsedMs: number | undefined;
    if (typeof at === 'string') {
      try {
        parsedMs = parseDuration(at);
      } catch {
        // said below
      }
    }
    if (parsedMs === undefined) return { problem: `at must be ${DURATION_FORMAT} (the point on the timeline, from its start), not ${JSON.stringify(at)}.` };
    ms = parsedMs;
  }
  // the end itself is a point on the timeline (everything has run); past it there is nothing
  if (ms > end) return { problem: `at ${JSON.stringify(fields.at)} is past the end of profile ${profile.name}'s timeline, which ends at ${asDuration(end)}.` };
  return { ms };
}

export function addChaosRoutes(app: Express, control: ChaosControl, workspaceOf: (req: Request) => Workspace, sendProblem: Send, engine: Engine): void {
  app.get('/__admin/chaos', async (req, res) => {
    const stage = workspaceOf(req).chaos;
    if (!(stage instanceof ChaosEngine)) return sendProblem(res, 404, 'no-chaos', 'This workspace has no chaos profile.');
    // replicas: the rules' counters summed over all of them
    res.json(await stage.describeShared());
  });

  app.put('/__admin/chaos', express.text({ type: () => true, limit: '1mb' }), async (req, res) => {
    const named = req.query.profile;
    let profile: CompiledProfile;
    try {
      if (typeof named === 'string') profile = loadBuiltInProfile(named, control.catalogue);
      else {
        const text = typeof req.body === 'string' ? req.body : '';
        if (text.trim() === '') return sendProblem(res, 400, 'empty-profile', 'Send a profile as YAML or JSON, or name a built-in one with ?profile=NAME.');
        profile = profileFromText(text, control.catalogue);
      }
    } catch (err) {
      if (err instanceof SourceError) {
        return sendProblem(res, 400, 'invalid-profile', `The profile has ${err.problems.length} problem(s); the active profile is unchanged.`, {
          errors: err.problems.map((p) => ({ line: p.line, column: p.column, path: p.path, message: p.message })),
        });
      }
      throw err;
    }
    const workspace = workspaceOf(req);
    await control.activate(workspace, profile);
    res.json((workspace.chaos as ChaosEngine).describe());
  });
  // raw bytes, parsed here: whatever the content-type, a body that is not this JSON is refused, never read as empty
  app.post('/__admin/chaos/timeline', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const workspace = workspaceOf(req);
    const stage = workspace.chaos;
    if (!(stage instanceof ChaosEngine)) return sendProblem(res, 404, 'no-chaos', 'This workspace has no chaos profile.');
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    const point = timelinePoint(stage.profile, body);
    if ('problem' in point) return sendProblem(res, 400, 'bad-timeline-point', `${point.problem} The timeline is unchanged.`);
    try {
      await workspace.jumpChaos(point.ms);
    } catch (err) {
      if (err instanceof TooManyJumpsError) return sendProblem(res, 409, 'too-many-jumps', `${err.message}. The timeline is unchanged.`);
      throw err;
    }
    const text = JSON.stringify(stage.describe());
    const headers = { 'content-type': 'application/json; charset=utf-8' };
    journalAdminAction(engine, req, workspace, { operation: 'chaos.timeline', requestBody: body, status: 200, responseHeaders: headers, responseBody: text });
    res.status(200).set(headers).send(text);
  });
}
