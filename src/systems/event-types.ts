/**
 * Every event type the built-in systems can emit, for checking the config file's subscriptions before any system
 * is mounted (the admin API checks against what is actually mounted).
 */
import { PAYMENTS_EVENT_TYPES } from './payments/events.js';
import { WMS_EVENT_TYPES } from './wms/events.js';

export const BUILT_IN_EVENT_TYPES: readonly string[] = [...WMS_EVENT_TYPES, ...PAYMENTS_EVENT_TYPES];
