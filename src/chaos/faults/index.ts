/** The fault kinds by name. A new kind is one file in this folder and one line here. */
import { csrfExpiry } from './csrf-expiry.js';
import { drift } from './drift.js';
import { empty } from './empty.js';
import { etagConflict } from './etag-conflict.js';
import { failFirst, succeedFirst } from './fail-first.js';
import type { FaultKind } from './fault.js';
import { latency } from './latency.js';
import { lostAck } from './lost-ack.js';
import { malformed } from './malformed.js';
import { noAck } from './no-ack.js';
import { outage } from './outage.js';
import { reset } from './reset.js';
import { slowBody } from './slow-body.js';
import { soapFault } from './soap-fault.js';
import { status } from './status.js';
import { timeout } from './timeout.js';
import { tokenExpiry } from './token-expiry.js';
import { truncate } from './truncate.js';

export const FAULT_KINDS: ReadonlyMap<string, FaultKind> = new Map(
  [latency, status, timeout, reset, empty, malformed, truncate, slowBody, drift, lostAck, failFirst, succeedFirst, outage, noAck, soapFault, etagConflict, csrfExpiry, tokenExpiry].map((k) => [k.kind, k]),
);

/** kinds the product documents that arrive with their protocols */
export const LATER_KINDS: Record<string, string> = {};
