/**
 * The OData model and the SOAP contract describe the same records: every property that shares its name with an
 * element of the WSDL's matching complex type has the MaxLength the WSDL's restriction allows (maxLength, the
 * length a pattern admits, or the longest enumeration value), the same nullability (nillable ↔ Nullable), and
 * money is Decimal(15,2) where the WSDL says AmountType (totalDigits 15, fractionDigits 2).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadErpModel } from '../../../src/systems/erp/odata-model.js';
import { readXml, type XmlElement } from '../../../src/protocols/xml/xml-reader.js';

const XSD = 'http://www.w3.org/2001/XMLSchema';
const WSDL = readXml(readFileSync(fileURLToPath(new URL('../../../contracts/erp.wsdl', import.meta.url)), 'utf8'));
const model = loadErpModel();

const attr = (e: XmlElement, name: string) => e.attrs.find((a) => a.local === name && a.uri === '')?.value;
function* all(e: XmlElement): Generator<XmlElement> {
  yield e;
  for (const c of e.children) yield* all(c);
}
const xsd = [...all(WSDL)].filter((e) => e.uri === XSD);

/** the longest string a pattern such as [0-9]{10} or MAT-[0-9]{6} admits */
function patternLength(pattern: string): number {
  let n = 0;
  for (const m of pattern.matchAll(/\[[^\]]+\](?:\{(\d+)\})?|\\?./g)) n += m[1] === undefined ? 1 : Number(m[1]);
  return n;
}

/** simple string type name → the longest value it allows; AmountType → decimal facets */
const stringLengths = new Map<string, number>();
const decimals = new Map<string, { totalDigits: number; fractionDigits: number }>();
for (const t of xsd.filter((e) => e.local === 'simpleType')) {
  const restriction = t.children[0];
  const facet = (local: string) => restriction.children.filter((c) => c.local === local).map((c) => attr(c, 'value')!);
  if (attr(restriction, 'base') === 'xsd:string') {
    const max = facet('maxLength')[0];
    const pattern = facet('pattern')[0];
    const enumeration = facet('enumeration');
    const length = max !== undefined ? Number(max) : pattern !== undefined ? patternLength(pattern) : Math.max(...enumeration.map((v) => v.length));
    stringLengths.set(`tns:${attr(t, 'name')}`, length);
  } else if (attr(restriction, 'base') === 'xsd:decimal') {
    decimals.set(`tns:${attr(t, 'name')}`, { totalDigits: Number(facet('totalDigits')[0]), fractionDigits: Number(facet('fractionDigits')[0]) });
  }
}

/** entity type ← the WSDL complex types describing the same record */
const COUNTERPARTS: Record<string, string[]> = {
  Customer: ['Customer'],
  Product: ['OrderLine'],
  SalesOrder: ['SalesOrder'],
  Invoice: ['InvoiceSummary'],
  InvoiceLine: ['InvoiceLine'],
};

describe('the OData model and the WSDL', () => {
  it('reads the restrictions it compares against', () => {
    expect(stringLengths.get('tns:CustomerIdType')).toBe(10);
    expect(stringLengths.get('tns:ProductIdType')).toBe(10);
    expect(stringLengths.get('tns:CountryCodeType')).toBe(2);
    expect(stringLengths.get('tns:OrderStatusType')).toBe(9);
    expect(stringLengths.get('tns:ReasonType')).toBe(255);
  });

  it.each(Object.entries(COUNTERPARTS))('%s agrees with its WSDL complex type', (typeName, complexTypes) => {
    const type = model.entityType(`Understudy.Erp.${typeName}`)!;
    let compared = 0;
    for (const ct of complexTypes) {
      const complex = xsd.find((e) => e.local === 'complexType' && attr(e, 'name') === ct)!;
      for (const element of [...all(complex)].filter((e) => e.local === 'element')) {
        const name = attr(element, 'name')!;
        const p = type.property(name);
        if (!p) continue;
        compared++;
        const xsdType = attr(element, 'type')!;
        const where = `${typeName}.${name} (${ct}: ${xsdType})`;
        if (stringLengths.has(xsdType)) expect([p.type, p.maxLength], where).toEqual(['Edm.String', stringLengths.get(xsdType)]);
        else if (decimals.has(xsdType)) expect([p.type, p.precision, p.scale], where).toEqual(['Edm.Decimal', decimals.get(xsdType)!.totalDigits, decimals.get(xsdType)!.fractionDigits]);
        else expect(p.type, where).toBe({ 'xsd:date': 'Edm.Date', 'xsd:dateTime': 'Edm.DateTimeOffset', 'xsd:boolean': 'Edm.Boolean', 'xsd:int': 'Edm.Int32', 'tns:QuantityType': 'Edm.Int32' }[xsdType]);
        // a product's fields come from an order line, where they are required; elsewhere nillable ↔ Nullable
        if (typeName !== 'Product') expect(p.nullable, where).toBe(attr(element, 'nillable') === 'true');
      }
    }
    expect(compared, typeName).toBeGreaterThanOrEqual(3);
  });
});
