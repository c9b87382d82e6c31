/**
 * Step 7 of the pipeline for OData: the reply against the model, recorded in the journal's `contract` (never
 * enforced: a drifting vendor is what chaos simulates). A reply the engine wrote itself is marked (ENGINE_REPLY in
 * Reply.memo) and not parsed again: its serialisers write only the model's properties, in their types, and their
 * tests hold them to it. A reply chaos rewrote (`drift`, `malformed`) comes back without the mark, and is read:
 *   - v4 JSON: every entity of `value` (or the single entity) has only declared properties besides annotations,
 *     every property of the row unless $select chose, and values that fit their types (model.ts valueProblem);
 *   - v2 JSON: the same names in `d.results` / `d` (values are v2's text forms: names only);
 *   - a body that is not JSON where JSON was sent is one error; Atom and error bodies are not read.
 */
import type { ContractError, Reply } from '../../engine/exchange.js';
import { valueProblem, type EntityType } from './model/model.js';

/** Reply.memo of a reply the OData engine wrote itself */
export const ENGINE_REPLY = 'odata-engine';

const MAX_REPORTED = 50;

export function checkReply(reply: Reply, type: EntityType, dialect: 'v2' | 'v4', selected: boolean, errors: ContractError[]): void {
  if (reply.memo === ENGINE_REPLY || reply.status < 200 || reply.status >= 300 || reply.body === undefined) return;
  const contentType = String(reply.headers['content-type'] ?? '');
  if (!contentType.includes('json')) return;
  const text = typeof reply.body === 'string' ? reply.body : Buffer.isBuffer(reply.body) ? reply.body.toString('utf8') : undefined;
  if (text === undefined) return;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    errors.push({ in: 'response', message: 'the body is not JSON, although its Content-Type says it is' });
    return;
  }
  const entities = entitiesOf(doc, dialect);
  if (entities === undefined) {
    errors.push({ in: 'response', message: dialect === 'v4' ? 'the body has neither a value array nor an entity' : 'the body has no d object' });
    return;
  }
  entities.forEach((entity, i) => {
    if (errors.length >= MAX_REPORTED) return;
    const at = entities.length === 1 && !Array.isArray((doc as Record<string, unknown>).value) ? '' : `/value/${i}`;
    checkEntity(entity, type, dialect, selected, at, errors);
  });
}

function entitiesOf(doc: unknown, dialect: 'v2' | 'v4'): Record<string, unknown>[] | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = dialect === 'v2' ? (doc as Record<string, unknown>).d : doc;
  if (typeof d !== 'object' || d === null) return undefined;
  const list = dialect === 'v4' ? (d as Record<string, unknown>).value : (d as Record<string, unknown>).results;
  if (Array.isArray(list)) return list.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !('@removed' in e));
  return [d as Record<string, unknown>];
}

function checkEntity(entity: Record<string, unknown>, type: EntityType, dialect: 'v2' | 'v4', selected: boolean, at: string, errors: ContractError[]): void {
  for (const [name, value] of Object.entries(entity)) {
    if (name.startsWith('@') || name.startsWith('__') || name.includes('@')) continue;
    const property = type.property(name);
    if (!property) {
      errors.push({ in: 'response', pointer: `${at}/${name}`, message: `${name} is not a property of ${type.name}` });
      continue;
    }
    const problem = dialect === 'v4' ? valueProblem(property, value) : undefined;
    if (problem !== undefined) errors.push({ in: 'response', pointer: `${at}/${name}`, message: problem });
  }
  if (!selected) {
    for (const p of type.properties) if (!(p.name in entity)) errors.push({ in: 'response', pointer: `${at}/${p.name}`, message: `${p.name} is missing` });
  }
}
