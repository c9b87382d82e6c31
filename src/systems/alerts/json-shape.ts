/**
 * Two walks over a parsed JSON body that must not recurse into whatever a caller sent: how deep it is nested
 * (iteratively, so a body of a million nested arrays costs memory, not the stack), and, once it is known to be
 * shallow, a canonical text of it (keys sorted) for deriving a key from its content.
 */

/** Bodies nested deeper than this are refused: far above Block Kit's or any alert's needs, far below the stack's. */
export const MAX_DEPTH = 64;

/** Whether `value` has objects or arrays nested more than `max` levels (the body itself is level 1). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; above: number }> = [{ value, above: 0 }];
  while (stack.length) {
    const { value: v, above } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (above >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, above: above + 1 });
    }
  }
  return false;
}

/**
 * JSON with object keys sorted, so that one event written with its keys in another order reads the same.
 * Recursive: only for values nestedDeeperThan(value, MAX_DEPTH) has cleared.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
