/**
 * "Did you mean …" for names a user typed: chaos match values (systems, operations, routes) and UNDERSTUDY_*
 * environment variables. A typo usually swaps, drops or doubles a letter, so the distance is Levenshtein with
 * adjacent transpositions counted as one edit (getInventroy → getInventory is 1, not 2), compared without case.
 */

/** Edits (insert, delete, substitute, swap two neighbours) between a and b, ignoring case. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // three rows are enough: a transposition looks two rows back
  let before = new Array<number>(t.length + 1).fill(0);
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, before[j - 2] + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[t.length];
}

/**
 * The candidate closest to `typed`, when it is close enough to be what was meant: at most a third of the
 * longer name's letters differ (so "wsm" finds "wms", and "erp" does not find "wms").
 */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(typed, candidate);
    const limit = Math.max(1, Math.floor(Math.max(typed.length, candidate.length) / 3));
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** " (did you mean X?)" when one is close, else "; " + what `otherwise` says (the valid values, usually). */
export function suggestion(typed: string, candidates: readonly string[], otherwise: string): string {
  const near = closest(typed, candidates);
  return near !== undefined ? ` (did you mean ${near}?)` : `; ${otherwise}`;
}
