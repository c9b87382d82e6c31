/**
 * fetch.overFetching: reads that could have selected their fields and did not (OData without $select, a REST read
 * without its field-selection parameter). Whole records cost the other side and the network, and in Salesforce
 * Connect they slow every page that shows them. Never a failure, a warning when most reads fetch everything.
 */
import { plural, result, type ClientCheck } from '../context.js';

export const overFetching: ClientCheck = (client) => {
  const reads = client.attempts.filter((a) => a.selectedFields !== null);
  if (reads.length === 0) {
    return [result('fetch.overFetching', 'n/a', `${client.client} made no successful read of an operation that offers a field selection ($select or a fields parameter), so there was nothing to judge.`)];
  }
  const whole = reads.filter((a) => !a.selectedFields);
  const share = Math.round((whole.length / reads.length) * 1000) / 1000;
  const value = { reads: reads.length, withoutSelection: whole.length, share };
  if (share > 0.5) {
    return [
      result(
        'fetch.overFetching',
        'warn',
        `${whole.length} of ${client.client}'s ${plural(reads.length, 'read')} that could select fields fetched whole records (${[...new Set(whole.map((a) => a.operation))].join(', ')}). Ask only for the fields you use ($select, fields=).`,
        whole.slice(0, 50).map((a) => a.id),
        value,
      ),
    ];
  }
  return [result('fetch.overFetching', 'pass', `${client.client} selected its fields in ${reads.length - whole.length} of ${plural(reads.length, 'read')} that allow it.`, reads.slice(0, 50).map((a) => a.id), value)];
};
