/**
 * Mounting a SOAP system: its WSDL loaded and checked, its handlers behind the SOAP engine, WS-Security when the
 * configuration asks for it.
 */
import { createHash } from 'node:crypto';
import type { MountedSystem } from '../../engine/system.js';
import type { SoapSystemDefinition } from './handler.js';
import { SoapEngine } from './soap-engine.js';
import { loadWsdl } from './wsdl.js';
import { wsSecurity, type WsseUser } from './ws-security.js';

export interface SoapMountOptions {
  /** `wsse`: every operation needs a WS-Security UsernameToken of one of `users`; `none` (default): X-Understudy-Client names the caller */
  auth?: 'none' | 'wsse';
  users?: readonly WsseUser[];
}

export interface MountedSoapSystem extends MountedSystem {
  engine: SoapEngine;
}

export function mountSoapSystem<S>(definition: SoapSystemDefinition<S>, options: SoapMountOptions = {}): MountedSoapSystem {
  const wsdl = loadWsdl(definition.wsdlFile);
  const engine = new SoapEngine(wsdl, definition.mount, definition as SoapSystemDefinition<unknown>);
  if (options.auth === 'wsse' && !options.users?.length) throw new Error(`systems.${definition.name}.auth is wsse, but auth.users names no user`);
  return {
    name: definition.name,
    mount: definition.mount,
    engine,
    auth: options.auth === 'wsse' ? wsSecurity(options.users ?? []) : undefined,
    createState: (o) => definition.createState(o),
    snapshotState: definition.snapshotState as MountedSystem['snapshotState'],
    restoreState: definition.restoreState,
    acknowledges: definition.acknowledges,
    // what a stored log was written under: the WSDL as served and the state's configuration
    fingerprint: { wsdl: createHash('sha256').update(wsdl.text).digest('hex').slice(0, 16), ...definition.stateOptions },
  };
}
