/**
 * Mounting an OData system: one engine per version at its service root, over the system's state. A system served
 * by other protocols too (the ERP: SOAP and OData 4.0 and 2.0) gives every mount the same name and state
 * functions; the workspace keeps one state per system name (engine/system-states.ts), so a write through one
 * face is what the others read.
 */
import { createHash } from 'node:crypto';
import type { MountedSystem, StateOptions } from '../../engine/system.js';
import type { ODataSystemDefinition } from './handler.js';
import { ODataEngine, type ODataEngineOptions } from './odata-engine.js';

export type ODataMountOptions = ODataEngineOptions;

/** What the system's state is made and kept with: the same for every mount of the system. */
export interface SharedState {
  createState(options: StateOptions): unknown;
  snapshotState?(state: unknown): Buffer;
  restoreState?(snapshot: Buffer, options: StateOptions): unknown;
  stateOptions?: Record<string, unknown>;
}

export interface MountedODataSystem extends MountedSystem {
  engine: ODataEngine;
}

export function mountODataSystem<S>(definition: ODataSystemDefinition<S>, state: SharedState, options: ODataMountOptions): MountedODataSystem {
  const engine = new ODataEngine(options, definition as ODataSystemDefinition<unknown>);
  return {
    name: definition.name,
    mount: options.mount,
    engine,
    createState: state.createState,
    snapshotState: state.snapshotState,
    restoreState: state.restoreState,
    // what a stored log was written under: the model as served (the v4 CSDL; v2 derives from it)
    fingerprint: { csdl: createHash('sha256').update(options.model.csdl).digest('hex').slice(0, 16), ...state.stateOptions },
  };
}
