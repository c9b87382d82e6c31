/**
 * Writing into records made from callers' JSON without ever touching Object.prototype. A body may carry
 * `__proto__` or `constructor` as keys (JSON.parse makes them own properties); `obj[key] = value` with such a key
 * would instead call the prototype setter. Every write into a record goes through setOwn, which defines an own
 * property whatever its name, and copies are made by a JSON round trip, which does the same.
 *
 * mergePatch is RFC 7386 (JSON Merge Patch), small enough to own: null removes, objects merge recursively,
 * anything else replaces. The libraries that offer it (json-merge-patch) assign with `target[key] =`.
 */

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** defines an own, enumerable property: `__proto__` included, no setter run */
export function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function hasOwn(target: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/** a deep copy of a JSON value (records hold only JSON) */
export function copyJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** RFC 7386: `target` with `patch` applied, as a new value; `skip` names top-level keys the patch may not touch */
export function mergePatch(target: unknown, patch: unknown, skip: ReadonlySet<string> = new Set()): unknown {
  if (!isPlainObject(patch)) return copyJson(patch);
  const out: JsonObject = isPlainObject(target) ? copyJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (skip.has(key)) continue;
    if (value === null) delete out[key];
    else setOwn(out, key, mergePatch(hasOwn(out, key) ? out[key] : undefined, value));
  }
  return out;
}
