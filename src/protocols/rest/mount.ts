/**
 * Mounting a REST system: a built-in one (contract + handlers + state) or a user's contract given with
 * `--contract FILE[@/mount]`, which gets generated responses for every operation.
 */
import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import type { MountedSystem, SystemEvents } from '../../engine/system.js';
import { ContractLoadError, loadContract, parseContractOption } from './contract.js';
import type { RestSystemDefinition } from './handler.js';
import { RestEngine } from './rest-engine.js';
import { documentWantsState, statefulContract } from './resources/stateful-system.js';

/** re-exported: where callers have always found it (it lives with contract loading, which the CLI loads early) */
export { parseContractOption };

export interface MountedRestSystem extends MountedSystem {
  engine: RestEngine;
}

export async function mountRestSystem<S>(definition: RestSystemDefinition<S>, mountOverride?: string, { maxBodyBytes }: { maxBodyBytes?: number } = {}): Promise<MountedRestSystem> {
  // built-in contracts are checked by `understudy contracts check` in the test suite, not at every start
  const contract = await loadContract(definition.contractFile, { validate: false });
  const mount = normalizeMount(mountOverride ?? definition.mount ?? contract.defaultMount);
  return {
    name: definition.name,
    mount,
    engine: await RestEngine.create(
      contract,
      mount,
      definition.handlers as RestSystemDefinition<unknown>['handlers'],
      {
        replyCache: definition.replyCache as RestSystemDefinition<unknown>['replyCache'],
        errorShape: definition.errorShape,
        sanitizeBody: definition.sanitizeBody,
        masksCardData: definition.masksCardData,
        stateless: definition.stateless,
        maxBodyBytes,
      },
    ),
    createState: (options) => definition.createState(options),
    snapshotState: definition.snapshotState as MountedSystem['snapshotState'],
    restoreState: definition.restoreState,
    replayEvent: definition.replayEvent as MountedSystem['replayEvent'],
    // the engine hands every system's functions the state that system's createState made
    events: definition.events as SystemEvents | undefined,
    applyCommand: definition.applyCommand as MountedSystem['applyCommand'],
    // what a stored log was written under; a system that logs nothing leaves the data directory free of it
    ...(definition.stateless === true ? {} : { fingerprint: { contract: contractDigest(contract.document), ...definition.stateOptions } }),
  };
}

/** A short digest of the contract as served (external $refs bundled in): changes when any of it does. */
function contractDigest(document: unknown): string {
  return createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 16);
}


/**
 * `validate: false` skips the OpenAPI specification check, for tools that only list what would be mounted.
 * `stateful`: serve its resources with state (resources/): true or false as configured, else as the document
 * asks (`x-understudy-stateful: true`, any `x-understudy-resource`); `maxObjects` bounds the records then.
 */
export async function mountCustomContract(
  option: string,
  { validate = true, maxBodyBytes, stateful, maxObjects = 100_000, lenient = false }: { validate?: boolean; maxBodyBytes?: number; stateful?: boolean; maxObjects?: number; lenient?: boolean } = {},
): Promise<MountedRestSystem> {
  const { file, mount } = parseContractOption(option);
  const contract = await loadContract(file, { validate });
  const at = normalizeMount(mount ?? contract.defaultMount);
  const name = at.split('/')[1] || basename(file, extname(file));
  if (stateful ?? documentWantsState(contract.document)) {
    try {
      return { name, mount: at, ...(await statefulContract(contract, at, { engine: { maxBodyBytes, lenient }, maxObjects, digest: contractDigest(contract.document) })) };
    } catch (err) {
      throw err instanceof ContractLoadError || !(err instanceof Error) ? err : new ContractLoadError(file, err.message);
    }
  }
  return { name, mount: at, engine: await RestEngine.create(contract, at, {}, { maxBodyBytes, lenient }), createState: () => ({}) };
}

function normalizeMount(mount: string): string {
  const m = ('/' + mount).replace(/\/+/g, '/').replace(/\/$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(m)) throw new Error(`"${mount}" is not a usable mount path (expected something like /vendor/v1)`);
  if (m.startsWith('/__admin') || m.startsWith('/w/') || m === '/w') throw new Error(`mount path ${m} is reserved`);
  return m;
}
