/**
 * GET /__admin/wms/simulation: whether the WMS's background stock simulation runs, and at what rate.
 * PUT /__admin/wms/simulation: change it at runtime, `{ "rate": "5/s", "running": true }` (either field, or both):
 * a new rate, a pause (`running: false`, the rate kept) or a resume. Per workspace, like every admin route.
 *
 * The simulation is state (what it changes is in GET /wms/v1/changes), so a PUT goes through the workspace's
 * SystemStates.command: run with the clock pinned, logged, replayed at a restart, and undone by a state reset.
 * Bad input is refused by the WMS (CommandError, naming the field) before anything changes or is logged.
 */
import type { Express, Request, Response } from 'express';
import { CommandError, type MountedSystem } from '../engine/system.js';
import type { Workspace } from '../engine/workspace.js';
import { SIMULATION_COMMAND, simulationSettings, type WmsState } from '../systems/wms/index.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

export function addSimulationRoutes(app: Express, workspaceOf: (req: Request) => Workspace, sendProblem: Send, systems: readonly MountedSystem[]): void {
  // the built-in WMS, not a --contract mounted at /wms (which would be named wms too, and takes no commands)
  const wms = systems.find((s) => s.name === 'wms' && s.applyCommand !== undefined);
  const notMounted = (res: Response) =>
    sendProblem(res, 404, 'no-wms', 'The WMS is not mounted on this server (systems.wms.enabled: false), so it has no simulation.');

  app.get('/__admin/wms/simulation', (req, res) => {
    if (wms === undefined) return notMounted(res);
    res.json(simulationSettings(workspaceOf(req).states.get(wms) as WmsState));
  });

  app.put('/__admin/wms/simulation', async (req, res) => {
    if (wms === undefined) return notMounted(res);
    // no body at all: express.json leaves req.body undefined, which the WMS refuses as "not a JSON object"
    let settings: unknown;
    try {
      settings = await workspaceOf(req).states.command(wms, SIMULATION_COMMAND, req.body);
    } catch (err) {
      if (err instanceof CommandError) return sendProblem(res, 400, 'bad-simulation', `${err.message} Nothing was changed.`);
      throw err;
    }
    res.json(settings);
  });
}
