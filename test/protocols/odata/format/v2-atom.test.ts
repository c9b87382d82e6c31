/**
 * v2-atom.ts, read back with the shared XML reader as a namespace-aware client would: the feed's head, m:count,
 * entries (id, category, edit link, etag, updated), m:properties with m:type and m:null, value texts, the next
 * link; escaping of & < > " ' in values and URLs; characters XML 1.0 cannot carry; the standalone entry, the
 * service document and the error.
 */
import { describe, expect, it } from 'vitest';
import {
  APP_NS,
  ATOM_ENTRY,
  ATOM_FEED,
  ATOM_NS,
  ATOM_SERVICE,
  DATASERVICES_NS,
  entryAtom,
  errorV2Xml,
  feedAtom,
  METADATA_NS,
  SCHEME_NS,
  serviceDocumentAtom,
  XML,
} from '../../../../src/protocols/odata/format/v2-atom.js';
import { attributeOf, readXml, type XmlElement } from '../../../../src/protocols/xml/xml-reader.js';
import { contextOf, model, out, ROOT_V2 as ROOT, rowsOf, setOf } from './support.js';

const UPDATED = '2026-03-01T09:00:00.000Z';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const kids = (e: XmlElement, uri: string, local: string): XmlElement[] => e.children.filter((c) => c.uri === uri && c.local === local);
const kid = (e: XmlElement, uri: string, local: string): XmlElement => {
  const found = kids(e, uri, local);
  expect(found, `<${local}> in <${e.local}>`).toHaveLength(1);
  return found[0];
};
const attr = (e: XmlElement, local: string, uri = ''): string | undefined => attributeOf(e, uri, local);
const propertiesOf = (entry: XmlElement): XmlElement[] => kid(kid(entry, ATOM_NS, 'content'), METADATA_NS, 'properties').children;

describe('feedAtom', () => {
  const ctx = contextOf('Customers', undefined, ROOT);
  const rows = rowsOf('Customers');
  const next = `${ROOT}Customers?$skiptoken='0001000004'&$top=5&$inlinecount=allpages`;
  const text = feedAtom(ctx, { entities: rows.map((r, i) => out(ctx, r, `W/"${i + 1}"`)), count: 91, nextLink: next, updated: UPDATED });
  const feed = readXml(text);

  it('starts with the XML declaration; the feed declares xml:base and the Atom, data and metadata namespaces', () => {
    expect(text.startsWith('<?xml version="1.0" encoding="utf-8"?><feed ')).toBe(true);
    expect(feed).toMatchObject({ uri: ATOM_NS, local: 'feed' });
    expect(attr(feed, 'base', XML_NS)).toBe(ROOT);
    expect(feed.namespaces).toEqual({ '': ATOM_NS, d: DATASERVICES_NS, m: METADATA_NS });
  });

  it('id, title, updated, self link, m:count, the entries and the next link', () => {
    expect(kid(feed, ATOM_NS, 'id').text).toBe(`${ROOT}Customers`);
    const title = kid(feed, ATOM_NS, 'title');
    expect([title.text, attr(title, 'type')]).toEqual(['Customers', 'text']);
    expect(kid(feed, ATOM_NS, 'updated').text).toBe(UPDATED);
    expect(kid(feed, METADATA_NS, 'count').text).toBe('91');
    const links = kids(feed, ATOM_NS, 'link');
    expect(links.map((l) => [attr(l, 'rel'), attr(l, 'href')])).toEqual([
      ['self', 'Customers'],
      ['next', next],
    ]);
    // & in the next link is escaped in the text, and the document still reads
    expect(text).toContain('$skiptoken=&apos;0001000004&apos;&amp;$top=5&amp;$inlinecount=allpages"/></feed>');
    expect(kids(feed, ATOM_NS, 'entry')).toHaveLength(rows.length);
    // the next link comes after the last entry
    expect(feed.children[feed.children.length - 1]).toBe(links[1]);
  });

  it('each entry: etag, id, category, edit link, title, updated, author, content with the properties in order', () => {
    const declared = setOf('Customers').entityType.properties.map((p) => p.name);
    for (const [i, entry] of kids(feed, ATOM_NS, 'entry').entries()) {
      const key = rows[i].CustomerId as string;
      expect(attr(entry, 'etag', METADATA_NS)).toBe(`W/"${i + 1}"`);
      expect(kid(entry, ATOM_NS, 'id').text).toBe(`${ROOT}Customers('${key}')`);
      const category = kid(entry, ATOM_NS, 'category');
      expect([attr(category, 'term'), attr(category, 'scheme')]).toEqual(['Understudy.Erp.Customer', SCHEME_NS]);
      const edit = kid(entry, ATOM_NS, 'link');
      expect([attr(edit, 'rel'), attr(edit, 'title'), attr(edit, 'href')]).toEqual(['edit', 'Customer', `Customers('${key}')`]);
      kid(entry, ATOM_NS, 'title');
      expect(kid(entry, ATOM_NS, 'updated').text).toBe(UPDATED);
      kid(kid(entry, ATOM_NS, 'author'), ATOM_NS, 'name');
      expect(attr(kid(entry, ATOM_NS, 'content'), 'type')).toBe('application/xml');
      const props = propertiesOf(entry);
      expect(props.map((p) => [p.uri, p.local])).toEqual(declared.map((n) => [DATASERVICES_NS, n]));
    }
  });

  it('values: strings untyped and unescaped on reading; m:type for the rest; m:null; Decimal with its scale; booleans', () => {
    for (const [i, entry] of kids(feed, ATOM_NS, 'entry').entries()) {
      const props = Object.fromEntries(propertiesOf(entry).map((p) => [p.local, p]));
      const row = rows[i];
      expect(props.Name.text).toBe(row.Name);
      expect(attr(props.Name, 'type', METADATA_NS)).toBeUndefined();
      expect(attr(props.OpenOrderValue, 'type', METADATA_NS)).toBe('Edm.Decimal');
      expect(props.OpenOrderValue.text).toBe((row.OpenOrderValue as number).toFixed(2));
      expect(attr(props.Blocked, 'type', METADATA_NS)).toBe('Edm.Boolean');
      expect(props.Blocked.text).toBe(String(row.Blocked));
      expect(attr(props.CreatedAt, 'type', METADATA_NS)).toBe('Edm.DateTimeOffset');
      expect(props.CreatedAt.text).toBe(row.CreatedAt);
      if (row.CreditLimit === null) {
        expect(attr(props.CreditLimit, 'null', METADATA_NS)).toBe('true');
        expect(attr(props.CreditLimit, 'type', METADATA_NS)).toBe('Edm.Decimal');
        expect(props.CreditLimit.text).toBe('');
      } else {
        expect(props.CreditLimit.text).toBe((row.CreditLimit as number).toFixed(2));
      }
    }
    // the seeded names hold '&': escaped in the document
    expect(rows.some((r) => (r.Name as string).includes('&'))).toBe(true);
    expect(text).toContain('GmbH &amp; Co. KG');
    expect(text).toContain('<d:CreditLimit m:type="Edm.Decimal" m:null="true"/>');
  });

  it('Edm.Date as an Edm.DateTime at midnight; Int32 typed', () => {
    const octx = contextOf('SalesOrders', undefined, ROOT);
    const orders = rowsOf('SalesOrders');
    const entries = kids(readXml(feedAtom(octx, { entities: orders.map((r) => out(octx, r)), updated: UPDATED })), ATOM_NS, 'entry');
    for (const [i, entry] of entries.entries()) {
      const props = Object.fromEntries(propertiesOf(entry).map((p) => [p.local, p]));
      expect(attr(props.OrderDate, 'type', METADATA_NS)).toBe('Edm.DateTime');
      expect(props.OrderDate.text).toBe(`${orders[i].OrderDate as string}T00:00:00`);
      expect(attr(props.LineCount, 'type', METADATA_NS)).toBe('Edm.Int32');
      expect(props.LineCount.text).toBe(String(orders[i].LineCount));
      expect(attr(entry, 'etag', METADATA_NS)).toBeUndefined();
    }
  });

  it('no count, no next link: neither element', () => {
    const plain = readXml(feedAtom(ctx, { entities: [], updated: UPDATED }));
    expect(kids(plain, METADATA_NS, 'count')).toHaveLength(0);
    expect(kids(plain, ATOM_NS, 'link').map((l) => attr(l, 'rel'))).toEqual(['self']);
    expect(kids(plain, ATOM_NS, 'entry')).toHaveLength(0);
  });

  it('an entity with its own updated (EntityOut.updated) uses it; the others the feed’s', () => {
    const entities = [{ ...out(ctx, rows[0]), updated: rows[0].ChangedAt as string }, out(ctx, rows[1])];
    const entries = kids(readXml(feedAtom(ctx, { entities, updated: UPDATED })), ATOM_NS, 'entry');
    expect(entries.map((e) => kid(e, ATOM_NS, 'updated').text)).toEqual([rows[0].ChangedAt, UPDATED]);
  });

  it('& < > " \' in values, keys, ETags and the service root are escaped; the reader gets them back', () => {
    const nasty = `Tom & "Jerry" <'s> ]]> &amp;`;
    const root = `https://h.test/w/a&b"c/erp/odata/v2/`;
    const nctx = contextOf('Customers', undefined, root);
    const row = { ...rows[0], Name: nasty, City: '\t  spaced \n lines  ', CustomerId: `K'&<1>` };
    const doc = readXml(feedAtom(nctx, { entities: [out(nctx, row, 'W/"a&\'<"')], nextLink: `${root}Customers?a=1&b='<>'`, updated: UPDATED }));
    expect(attr(doc, 'base', XML_NS)).toBe(root);
    const entry = kid(doc, ATOM_NS, 'entry');
    expect(attr(entry, 'etag', METADATA_NS)).toBe('W/"a&\'<"');
    const props = Object.fromEntries(propertiesOf(entry).map((p) => [p.local, p]));
    expect(props.Name.text).toBe(nasty);
    expect(props.City.text).toBe('\t  spaced \n lines  ');
    expect(props.CustomerId.text).toBe(`K'&<1>`);
    expect(kid(entry, ATOM_NS, 'id').text).toBe(`${root}Customers('K''%26%3C1%3E')`);
    expect(attr(kid(entry, ATOM_NS, 'link'), 'href')).toBe(`Customers('K''%26%3C1%3E')`);
    expect(attr(kids(doc, ATOM_NS, 'link')[1], 'href')).toBe(`${root}Customers?a=1&b='<>'`);
  });

  it('characters XML 1.0 cannot carry become U+FFFD: the document stays well-formed; carriage returns survive', () => {
    const row = { ...rows[0], Name: 'A\u0001B\u0000C\uFFFFD', City: 'x\r\ny' };
    const entry = kid(readXml(feedAtom(ctx, { entities: [out(ctx, row)], updated: UPDATED })), ATOM_NS, 'entry');
    const props = Object.fromEntries(propertiesOf(entry).map((p) => [p.local, p]));
    expect(props.Name.text).toBe('A\uFFFDB\uFFFDC\uFFFDD');
    expect(props.City.text).toBe('x\r\ny');
  });
});

describe('entryAtom', () => {
  it('a standalone entry document: declaration, xml:base and namespaces on <entry>, the etag', () => {
    const ctx = contextOf('InvoiceLines', undefined, ROOT);
    const row = rowsOf('InvoiceLines')[3];
    const text = entryAtom(ctx, out(ctx, row, 'W/"2"'), UPDATED);
    expect(text.startsWith('<?xml version="1.0" encoding="utf-8"?><entry ')).toBe(true);
    const entry = readXml(text);
    expect(entry).toMatchObject({ uri: ATOM_NS, local: 'entry' });
    expect(entry.namespaces).toEqual({ '': ATOM_NS, d: DATASERVICES_NS, m: METADATA_NS });
    expect(attr(entry, 'base', XML_NS)).toBe(ROOT);
    expect(attr(entry, 'etag', METADATA_NS)).toBe('W/"2"');
    expect(kid(entry, ATOM_NS, 'id').text).toBe(`${ROOT}InvoiceLines(4)`);
    expect(kid(entry, ATOM_NS, 'updated').text).toBe(UPDATED);
    const props = Object.fromEntries(propertiesOf(entry).map((p) => [p.local, p.text]));
    expect(props.InvoiceLineId).toBe('4');
    expect(props.UnitPrice).toBe((row.UnitPrice as number).toFixed(2));
  });
});

describe('serviceDocumentAtom, errorV2Xml, content types', () => {
  it('one collection per entity set in the default workspace', () => {
    const service = readXml(serviceDocumentAtom(ROOT, model));
    expect(service).toMatchObject({ uri: APP_NS, local: 'service' });
    expect(attr(service, 'base', XML_NS)).toBe(ROOT);
    const workspace = kid(service, APP_NS, 'workspace');
    expect(kid(workspace, ATOM_NS, 'title').text).toBe('Default');
    const collections = kids(workspace, APP_NS, 'collection');
    expect(collections.map((c) => [attr(c, 'href'), kid(c, ATOM_NS, 'title').text])).toEqual(model.entitySets.map((s) => [s.name, s.name]));
  });

  it('an error: code and message in the metadata namespace, the message in English, escaped', () => {
    const error = readXml(errorV2Xml({ code: 'A<B', message: 'x & "y" <z>' }));
    expect(error).toMatchObject({ uri: METADATA_NS, local: 'error' });
    expect(kid(error, METADATA_NS, 'code').text).toBe('A<B');
    const message = kid(error, METADATA_NS, 'message');
    expect(message.text).toBe('x & "y" <z>');
    expect(attr(message, 'lang', XML_NS)).toBe('en');
  });

  it('the content types', () => {
    expect([ATOM_FEED, ATOM_ENTRY, ATOM_SERVICE, XML]).toEqual([
      'application/atom+xml;type=feed;charset=utf-8',
      'application/atom+xml;type=entry;charset=utf-8',
      'application/atomsvc+xml;charset=utf-8',
      'application/xml;charset=utf-8',
    ]);
  });
});
