/**
 * The OData serialisers (v4 JSON, v2 verbose JSON, v2 Atom), key predicates and write-body readers: pure
 * functions from the engine's description of a response (types.ts) to text, and from a client's body to values.
 */
export type { EntityOut, EntityWriteContext, FeedOut, ReadBody } from './types.js';
export { decimalText, entityPath, keyLiteral } from './keys.js';
export { entityV4, errorV4, feedV4, serviceDocumentV4, V4_JSON, type ErrorDetailV4, type ErrorV4 } from './v4-json.js';
export { entityV2Json, errorV2Json, feedV2Json, fixedDecimal, serviceDocumentV2Json, V2_JSON } from './v2-json.js';
export {
  ATOM_ENTRY,
  ATOM_FEED,
  ATOM_NS,
  ATOM_SERVICE,
  APP_NS,
  DATASERVICES_NS,
  entryAtom,
  errorV2Xml,
  feedAtom,
  METADATA_NS,
  SCHEME_NS,
  serviceDocumentAtom,
  XML,
} from './v2-atom.js';
export { gunzipBody, readAtomEntry, readV2Json, readV4Json } from './read-body.js';
