/**
 * A user's contract served with state (issue #14 §2): its resources inferred (infer.ts), their operations
 * answered by the CRUD handlers over a per-workspace ResourceState, everything else still generated. Assembled
 * here as a built-in REST system is (mount.ts mountRestSystem): handlers, state factory, JSON snapshots, and a
 * fingerprint, so that a data directory's write log is replayed only against the same contract and limits.
 */
import type { MountedSystem } from '../../../engine/system.js';
import type { LoadedContract } from '../contract.js';
import type { RestHandler } from '../handler.js';
import { ResponseGenerator } from '../generate/response-generator.js';
import { RestEngine, type RestEngineOptions } from '../rest-engine.js';
import { SchemaSampler } from '../generate/schema-sampler.js';
import { crudHandlers } from './crud-handlers.js';
import { documentWantsState, inferResources } from './infer.js';
import { ResourceState } from './resource-state.js';

export { documentWantsState };

export interface StatefulContractOptions {
  /** how the engine serves the contract (limits.bodyBytes, lenient validation ...); its errors are always declared */
  engine?: Omit<RestEngineOptions, 'declaredErrors'>;
  /** limits.objects: most records of all resources together, per workspace */
  maxObjects: number;
  /** the contract's digest (mount.ts), for the fingerprint */
  digest: string;
}

/** The parts of a MountedSystem a stateful contract has beyond its name and mount. */
export async function statefulContract(
  contract: LoadedContract,
  mount: string,
  options: StatefulContractOptions,
): Promise<Pick<MountedSystem, 'createState' | 'snapshotState' | 'restoreState' | 'fingerprint'> & { engine: RestEngine }> {
  const resources = inferResources(contract.document);
  const [sampler, errors] = await Promise.all([SchemaSampler.create(contract.document), ResponseGenerator.create(contract.document)]);
  const handlers = crudHandlers(contract.document, resources, sampler) as Record<string, RestHandler<unknown>>;
  const engine = await RestEngine.create(contract, mount, handlers, { ...options.engine, declaredErrors: errors });
  const { maxObjects } = options;
  return {
    engine,
    createState: ({ seed, clock }) => new ResourceState(seed, clock, maxObjects),
    snapshotState: (state) => (state as ResourceState).snapshot(),
    restoreState: (bytes, { seed, clock }) => ResourceState.restore(bytes, seed, clock, maxObjects),
    fingerprint: { contract: options.digest, stateful: 1, maxObjects },
  };
}
