/**
 * GET /__admin/chaos: the workspace's active profile, where its timeline is, and per-rule counters.
 * PUT /__admin/chaos: activate another profile, sent as YAML or JSON (or ?profile=NAME for a built-in: names only,
 * never paths, so the admin API cannot be made to read the server's files). A profile
 * with problems is refused with all of them (line, column, what was expected) and the old one stays active;
 * that includes rules whose match names a system, operation or route the server does not mount.
 */
import express, { type Express, type Request, type Response } from 'express';
import { ChaosEngine } from '../chaos/chaos-stage.js';
import type { MountCatalogue } from '../chaos/match.js';
import { loadBuiltInProfile, profileFromText, type CompiledProfile } from '../chaos/profile.js';
import { SourceError } from '../config/yaml-source.js';
import type { Workspace } from '../engine/workspace.js';

export interface ChaosControl {
  /** what the server mounts (every workspace mounts the same), to check a profile's match values against */
  readonly catalogue: MountCatalogue;
  /** makes `profile` the workspace's active one, starting now */
  activate(workspace: Workspace, profile: CompiledProfile): void;
}

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

export function addChaosRoutes(app: Express, control: ChaosControl, workspaceOf: (req: Request) => Workspace, sendProblem: Send): void {
  app.get('/__admin/chaos', (req, res) => {
    const stage = workspaceOf(req).chaos;
    if (!(stage instanceof ChaosEngine)) return sendProblem(res, 404, 'no-chaos', 'This workspace has no chaos profile.');
    res.json(stage.describe());
  });

  app.put('/__admin/chaos', express.text({ type: () => true, limit: '1mb' }), (req, res) => {
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
    control.activate(workspace, profile);
    res.json((workspace.chaos as ChaosEngine).describe());
  });
}
