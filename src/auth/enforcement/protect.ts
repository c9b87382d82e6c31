/**
 * Puts each system behind the check its `systems.<name>.auth` names (PRODUCT.md §1): the client identifier the
 * pipeline asks at step 2. `none` (the default, so `npm start` needs no setup) leaves the X-Understudy-Client
 * header to name the caller; `--no-auth` turns every check off. WS-Security is the SOAP engine's own (it reads the
 * envelope's header), set where the SOAP system is mounted.
 */
import type { SystemAuth } from '../../config/config.js';
import type { Exchange } from '../../engine/exchange.js';
import { headerIdentity, type ClientIdentifier } from '../../engine/seams.js';
import type { MountedSystem, OperationInfo } from '../../engine/system.js';
import type { AuthorizationServer } from '../server/mount.js';
import type { RefreshLinks } from '../refresh-links.js';
import { apiKeyIdentity } from './api-key.js';
import { basicIdentity } from './basic.js';
import { bearerIdentity } from './bearer.js';
import { contractSecurity } from './contract-security.js';
import { clientCertificateIdentity } from './mtls.js';

/**
 * What a system checks: a `systems.<name>.auth` mode, or `declared`, a user contract's own security requirements
 * (contract-security.ts), which `--contract` systems follow unless the config gives them a mode.
 */
export type Protection = SystemAuth | 'declared';

export interface ProtectionSettings {
  invalidTokenStatus: number;
  users: ReadonlyArray<{ username: string; password: string }>;
  apiKeys: ReadonlyArray<{ key: string; client: string }>;
  links: RefreshLinks;
}

/** The scopes an operation needs: its own (a REST contract's security requirement), else from a table by name. */
export type ScopesFor = (operation: OperationInfo, exchange: Exchange) => readonly string[];

export const contractScopes: ScopesFor = (operation) => operation.scopes ?? [];

/**
 * Scopes from a table (systems.erp.scopes): an operation by name, else `read` for operations that change nothing
 * and `write` for the rest.
 */
export function scopeTable(table: Readonly<Record<string, readonly string[]>>): ScopesFor {
  return (operation, exchange) => {
    const own = table[operation.id];
    if (own) return own;
    const safe = operation.safe ?? (exchange.method === 'GET' || exchange.method === 'HEAD' || exchange.method === 'OPTIONS');
    return table[safe ? 'read' : 'write'] ?? [];
  };
}

/** The identifier for `auth` (undefined: none, or wsse, which the SOAP engine brings itself). */
export function identifierFor(auth: Protection, settings: ProtectionSettings, server: AuthorizationServer, scopesFor: ScopesFor): ClientIdentifier | undefined {
  const bearer = () => bearerIdentity({ tokens: server.tokens, authorizationServer: server.systems[0], links: settings.links, invalidStatus: settings.invalidTokenStatus, scopesFor });
  switch (auth) {
    case 'declared':
      return contractSecurity(bearer(), settings.invalidTokenStatus);
    case 'oauth':
      return bearer();
    case 'apikey':
      return apiKeyIdentity(settings.apiKeys);
    case 'basic':
      return basicIdentity(settings.users);
    case 'mtls':
      return clientCertificateIdentity();
    case 'none':
    case 'wsse':
      return undefined;
  }
}

/** operations open to anyone (OperationInfo.open: a WSDL) are named by the header, as without auth */
function exceptOpen(identifier: ClientIdentifier): ClientIdentifier {
  return {
    identify: (exchange) => (exchange.operation?.open ? headerIdentity.identify(exchange) : identifier.identify(exchange)),
    refuseToken: identifier.refuseToken,
  };
}

/** Sets the identifier of each system by its auth mode (systems not in `modes` keep theirs). */
export function protectSystems(modes: ReadonlyMap<MountedSystem, { auth: Protection; scopesFor: ScopesFor }>, settings: ProtectionSettings, server: AuthorizationServer): void {
  for (const [system, { auth, scopesFor }] of modes) {
    const identifier = identifierFor(auth, settings, server, scopesFor);
    if (identifier) system.auth = exceptOpen(identifier);
  }
}
