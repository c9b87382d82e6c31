/**
 * Outbound Messages as Salesforce sends them (SALESFORCE.md §4): a `notifications` envelope with an org id, the
 * outbound message's action id, SessionId xsi:nil (Send Session ID off), the enterprise and partner URLs, and
 * Notification elements whose sObject carries xsi:type="sf:Account" and sf:-prefixed fields. Also the body the
 * SOAP engine hands the handler for such a message (SoapRequest.body), for the domain tests.
 */
import type { SoapRequest } from '../../../src/protocols/soap/handler.js';

export const OUTBOUND_NS = 'http://soap.sforce.com/2005/09/outbound';
export const ORG_ID = '00D5e000000Jk2mEAC';
export const ACTION_ID = '04k5e000000CaTzAAK';

/** the notification Id of the n-th notification (18 characters, like Salesforce's 04l… ids) */
export const notificationId = (n: number) => `04l5e00000${String(n).padStart(6, '0')}AA`;
/** the Account id of the n-th notification's record */
export const accountId = (n: number) => `0015e00000${String(n).padStart(6, '0')}QA`;

export interface SampleNotification {
  id: string;
  type?: string;
  fields: Record<string, string | null>;
}

export function account(n: number, name = `Acme ${n}`): SampleNotification {
  return { id: notificationId(n), type: 'Account', fields: { Id: accountId(n), Name: name, AccountNumber: `CD${1000 + n}` } };
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The envelope Salesforce POSTs (text/xml; charset=utf-8), formatted as Salesforce formats it. */
export function envelope(notifications: SampleNotification[], options: { orgId?: string; actionId?: string; sessionId?: string } = {}): string {
  const session = options.sessionId === undefined ? '<SessionId xsi:nil="true"/>' : `<SessionId>${escape(options.sessionId)}</SessionId>`;
  const items = notifications
    .map((n) => {
      const fields = Object.entries(n.fields)
        .map(([name, value]) => (value === null ? `<sf:${name} xsi:nil="true"/>` : `<sf:${name}>${escape(value)}</sf:${name}>`))
        .join('');
      return (
        `\n   <Notification>\n    <Id>${n.id}</Id>\n` +
        `    <sObject xsi:type="sf:${n.type ?? 'Account'}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">${fields}</sObject>\n   </Notification>`
      );
    })
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
    ' <soapenv:Body>\n' +
    `  <notifications xmlns="${OUTBOUND_NS}">\n` +
    `   <OrganizationId>${options.orgId ?? ORG_ID}</OrganizationId>\n` +
    `   <ActionId>${options.actionId ?? ACTION_ID}</ActionId>\n` +
    `   ${session}\n` +
    `   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/59.0/${ORG_ID.slice(0, 15)}</EnterpriseUrl>\n` +
    `   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/${ORG_ID.slice(0, 15)}</PartnerUrl>` +
    items +
    '\n  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n'
  );
}

/** The envelope of one Account notification, exactly the sample of SALESFORCE.md §4 with real-looking ids. */
export const SINGLE = envelope([account(1, 'Acme Corporation')]);

/** What the SOAP engine hands the handler for envelope(notifications): the body by local name. */
export function requestOf(
  notifications: SampleNotification[],
  options: { endpoint?: string; ackWithheld?: boolean; orgId?: string; actionId?: string } = {},
): SoapRequest {
  return {
    operation: 'notifications',
    body: {
      OrganizationId: options.orgId ?? ORG_ID,
      ActionId: options.actionId ?? ACTION_ID,
      SessionId: null,
      EnterpriseUrl: `https://acme.my.salesforce.com/services/Soap/c/59.0/${ORG_ID.slice(0, 15)}`,
      PartnerUrl: `https://acme.my.salesforce.com/services/Soap/u/59.0/${ORG_ID.slice(0, 15)}`,
      Notification: notifications.map((n) => ({ Id: n.id, sObject: { type: n.type ?? 'Account', fields: { ...n.fields } } })),
    },
    client: 'salesforce',
    workspace: 'default',
    endpoint: options.endpoint,
    ackWithheld: options.ackWithheld ?? false,
  };
}
