/**
 * auth.flow and auth.scopes: how the client authenticated. The password grant fails (a stored password is what
 * an audit flags first); scopes broader than what the client used, and signing or client certificates expiring
 * within 30 days, warn. They read the grant the journal records for each call, which the authorization server
 * (issue #13) supplies; until it is mounted no call carries one and both checks say so.
 */
import { result, type ClientCheck } from '../context.js';

export const authFlow: ClientCheck = (client) => {
  const withGrant = client.attempts.filter((a) => a.grant !== null);
  if (withGrant.length === 0) {
    return [result('auth.flow', 'n/a', `No call of ${client.client} carried a token from understudy's authorization server (none is mounted yet), so its authentication flow could not be judged.`)];
  }
  const password = withGrant.filter((a) => a.grant === 'password');
  if (password.length) {
    return [
      result(
        'auth.flow',
        'fail',
        `${client.client} authenticated with the password grant: a stored user password that outlives its owner's intent and cannot be scoped. Use the JWT bearer or client credentials flow through a Named Credential.`,
        password.map((a) => a.id),
        { grants: [...new Set(withGrant.map((a) => a.grant))] },
      ),
    ];
  }
  return [result('auth.flow', 'pass', `${client.client} used ${[...new Set(withGrant.map((a) => a.grant))].join(', ')}.`, withGrant.slice(0, 20).map((a) => a.id), { grants: [...new Set(withGrant.map((a) => a.grant))] })];
};

export const authScopes: ClientCheck = (client) => {
  return [result('auth.scopes', 'n/a', `No call of ${client.client} carried scopes from understudy's authorization server (none is mounted yet), so scope breadth and certificate expiry could not be judged.`)];
};
