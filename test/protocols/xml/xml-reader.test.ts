/**
 * xml-reader.ts: the one door every XML body (SOAP envelopes, OData Atom entries, the CSDL) comes through.
 * Namespaces and xsi:type resolved, nil, CDATA, text; every refusal (DOCTYPE, processing instructions, foreign
 * encodings, invalid UTF-8, malformed XML) an XmlError; each limit checked at its boundary (exactly the limit is
 * read, one more is refused).
 */
import { describe, expect, it } from 'vitest';
import { attributeOf, DEFAULT_XML_LIMITS, escapeXml, isNil, readXml, readXmlBytes, XmlError, XSI, type XmlLimits } from '../../../src/protocols/xml/xml-reader.js';

const XSI_DECL = `xmlns:xsi="${XSI}"`;

function refused(text: string | Buffer, limits?: XmlLimits): string {
  try {
    if (typeof text === 'string') readXml(text, limits);
    else readXmlBytes(text, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(XmlError);
    return (err as Error).message;
  }
  throw new Error('the document was read, not refused');
}

const nested = (depth: number) => '<a>'.repeat(depth) + '</a>'.repeat(depth);

describe('reading', () => {
  it('resolves element and attribute namespaces: prefixed, default, undeclared default, redeclared', () => {
    const root = readXml(
      `<p:root xmlns:p="urn:p" xmlns="urn:d" p:flag="1" plain="2"><child/><q:other xmlns:q="urn:q"/><inner xmlns=""><bare/></inner><p:x xmlns:p="urn:p2"/></p:root>`,
    );
    expect(root).toMatchObject({ uri: 'urn:p', local: 'root', namespaces: { p: 'urn:p', '': 'urn:d' } });
    // namespace declarations are not attributes; an unprefixed attribute is in no namespace
    expect(root.attrs).toEqual([
      { uri: 'urn:p', local: 'flag', value: '1' },
      { uri: '', local: 'plain', value: '2' },
    ]);
    expect(attributeOf(root, 'urn:p', 'flag')).toBe('1');
    expect(attributeOf(root, '', 'flag')).toBeUndefined();
    expect(root.children.map((c) => [c.uri, c.local])).toEqual([
      ['urn:d', 'child'],
      ['urn:q', 'other'],
      ['', 'inner'],
      ['urn:p2', 'x'],
    ]);
    expect(root.children[2].children[0]).toMatchObject({ uri: '', local: 'bare' });
    expect(root.children[0].namespaces).toBeUndefined();
  });

  it('refuses an undeclared element prefix', () => {
    expect(refused('<x:a/>')).toMatch(/malformed XML: .*unbound namespace prefix/i);
  });

  it('resolves xsi:type against the prefixes in scope where it is written (its own, an ancestor, the default, none)', () => {
    const own = readXml(`<a xmlns:sf="urn:sobject" ${XSI_DECL} xsi:type="sf:Account"/>`);
    expect(own.xsiType).toEqual({ uri: 'urn:sobject', local: 'Account' });
    const inherited = readXml(`<r xmlns:sf="urn:sobject" ${XSI_DECL}><a xsi:type="sf:Contact"/></r>`);
    expect(inherited.children[0].xsiType).toEqual({ uri: 'urn:sobject', local: 'Contact' });
    const defaulted = readXml(`<r xmlns="urn:d" ${XSI_DECL}><a xsi:type="Lead"/></r>`);
    expect(defaulted.children[0].xsiType).toEqual({ uri: 'urn:d', local: 'Lead' });
    const none = readXml(`<r ${XSI_DECL}><a xsi:type="Lead"/></r>`);
    expect(none.children[0].xsiType).toEqual({ uri: '', local: 'Lead' });
    expect(readXml('<a/>').xsiType).toBeUndefined();
    // an xsi:type attribute in another namespace is just an attribute
    expect(readXml('<a xmlns:z="urn:z" z:type="z:T"/>').xsiType).toBeUndefined();
  });

  it('refuses an xsi:type whose prefix is not declared', () => {
    expect(refused(`<a ${XSI_DECL} xsi:type="nope:Account"/>`)).toMatch(/xsi:type="nope:Account" uses the undeclared prefix nope \(at \d+:\d+\)/);
  });

  it('reads xsi:nil="true" and "1" as nil, anything else not', () => {
    const root = readXml(
      `<r ${XSI_DECL}><a xsi:nil="true"/><b xsi:nil="1"/><c xsi:nil=" true "/><d xsi:nil="false"/><e/><f nil="true"/><g xsi:nil="TRUE"/></r>`,
    );
    expect(root.children.map(isNil)).toEqual([true, true, true, false, false, false, false]);
  });

  it('collects text and CDATA in order, decodes the predefined entities and character references', () => {
    const root = readXml('<a>one &amp; <![CDATA[<two> & ]]>three &lt;&gt;&quot;&apos; &#65;&#x42;<b>inner</b> after</a>');
    expect(root.text).toBe('one & <two> & three <>"\' AB after');
    expect(root.children[0].text).toBe('inner');
  });

  it('keeps whitespace-only text and text outside the root is ignored', () => {
    const root = readXml('\n  <a>  </a>\n');
    expect(root.text).toBe('  ');
  });

  it('accepts an XML declaration naming UTF-8 (any case, with or without the dash) or no encoding', () => {
    for (const decl of ['<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="utf8"?>', "<?xml version='1.0' encoding='utf-8' standalone='yes'?>"]) {
      expect(readXml(`${decl}<a/>`).local).toBe('a');
    }
  });

  it('reads bytes as UTF-8, with or without a byte order mark, multi-byte characters included', () => {
    expect(readXmlBytes(Buffer.from('<a>Grüße 🚚</a>')).text).toBe('Grüße 🚚');
    expect(readXmlBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>x</a>')])).text).toBe('x');
  });
});

describe('refusals', () => {
  it('refuses any DOCTYPE: internal entities, external entities, parameter entities, an external DTD', () => {
    const docs = [
      '<!DOCTYPE a><a/>',
      '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
      '<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>',
      '<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]><a/>',
      '<!DOCTYPE a SYSTEM "http://127.0.0.1:1/a.dtd"><a/>',
      `<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')}]><lolz>&lol9;</lolz>`,
    ];
    for (const doc of docs) expect(refused(doc)).toMatch(/^a DOCTYPE is not allowed: DTDs and entity declarations are refused \(at \d+:\d+\)$/);
  });

  it('refuses an entity reference that is not predefined (no DOCTYPE declares any)', () => {
    expect(refused('<a>&xxe;</a>')).toMatch(/malformed XML: .*undefined entity/i);
  });

  it('refuses processing instructions anywhere, before or inside the root', () => {
    expect(refused('<?xml-stylesheet href="evil.xsl"?><a/>')).toMatch(/^processing instructions are not allowed \(<\?xml-stylesheet \.\.\.\?>\)/);
    expect(refused('<a><?php echo 1; ?></a>')).toMatch(/processing instructions are not allowed \(<\?php/);
  });

  it('refuses a declared encoding other than UTF-8', () => {
    expect(refused('<?xml version="1.0" encoding="ISO-8859-1"?><a/>')).toMatch(/declares encoding ISO-8859-1; only UTF-8 is accepted/);
    expect(refused('<?xml version="1.0" encoding="UTF-16"?><a/>')).toMatch(/declares encoding UTF-16/);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(refused(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]))).toBe('the body is not valid UTF-8');
    // Latin-1 "é" as one byte
    expect(refused(Buffer.from('<a>caf\xe9</a>', 'latin1'))).toBe('the body is not valid UTF-8');
    // an overlong encoding of "<"
    expect(refused(Buffer.from([0xc0, 0xbc, 0x61, 0x2f, 0x3e]))).toBe('the body is not valid UTF-8');
  });

  it.each([
    ['an unclosed tag', '<a><b></a>'],
    ['an unclosed root', '<a><b/>'],
    ['two roots', '<a/><b/>'],
    ['garbage', 'garbage'],
    ['text after the root', '<a/>trailing'],
    ['a truncated document', '<a><b>te'],
    ['a truncated tag', '<a><b attr="x'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['a control character', '<a>\u0001</a>'],
    ['a character reference to a control character', '<a>&#1;</a>'],
    ['a character reference to a surrogate', '<a>&#xD800;</a>'],
  ])('refuses %s as malformed XML', (_, text) => {
    expect(refused(text)).toMatch(/^malformed XML: .+ \(at \d+:\d+\)$/);
  });

  it('refuses a document with no element', () => {
    for (const text of ['', '   ', '<!-- only a comment -->']) expect(refused(text)).toMatch(/no XML element|must contain a root element/);
  });

  // Regression: the position once appeared twice (saxes's own prefix was not stripped).
  it('says where a malformed document breaks once, not twice', () => {
    expect(refused('<a><b></a>')).toMatch(/^malformed XML: [a-z][^:]*\S.* \(at 1:\d+\)$/i);
  });

  // Regression: XML 1.1 was once read, and its character references reach control characters XML 1.0 cannot carry.
  it('refuses XML 1.1, whose character references reach control characters XML 1.0 cannot carry', () => {
    expect(refused('<?xml version="1.1"?><a>&#1;</a>')).toMatch(/1\.1|character/);
  });
});

describe('limits, each at its boundary', () => {
  const limits = (l: Partial<XmlLimits>): XmlLimits => ({ ...DEFAULT_XML_LIMITS, ...l });

  it('the defaults', () => {
    expect(DEFAULT_XML_LIMITS).toEqual({ maxDepth: 32, maxElements: 100_000, maxAttributes: 64, maxText: 1_000_000 });
  });

  it('depth: exactly maxDepth is read, one more is refused (the root is depth 1)', () => {
    let deepest = readXml(nested(32));
    for (let i = 1; i < 32; i++) deepest = deepest.children[0];
    expect(deepest.children).toEqual([]);
    expect(refused(nested(33))).toMatch(/^elements nested deeper than 32 \(at 1:\d+\)$/);
    expect(readXml(nested(5), limits({ maxDepth: 5 })).local).toBe('a');
    expect(refused(nested(6), limits({ maxDepth: 5 }))).toMatch(/nested deeper than 5/);
  });

  it('depth: a thousand levels are refused at the limit, without reading on', () => {
    expect(refused(nested(1000))).toMatch(/elements nested deeper than 32/);
  });

  it('elements: exactly maxElements are read, one more is refused (the root counts)', () => {
    const doc = (n: number) => `<r>${'<e/>'.repeat(n - 1)}</r>`;
    expect(readXml(doc(10), limits({ maxElements: 10 })).children).toHaveLength(9);
    expect(refused(doc(11), limits({ maxElements: 10 }))).toMatch(/^more than 10 elements \(at/);
    expect(readXml(doc(100_000)).children).toHaveLength(99_999);
    expect(refused(doc(100_001))).toMatch(/more than 100000 elements/);
  });

  it('attributes: exactly maxAttributes are read, one more is refused; namespace declarations do not count', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
    const xmlns = Array.from({ length: 10 }, (_, i) => ` xmlns:n${i}="urn:n${i}"`).join('');
    expect(readXml(`<r${xmlns}${attrs(64)}/>`).attrs).toHaveLength(64);
    expect(refused(`<r${attrs(65)}/>`)).toMatch(/^more than 64 attributes on <r> \(at/);
    expect(readXml(`<r><c${attrs(3)}/></r>`, limits({ maxAttributes: 3 })).children[0].attrs).toHaveLength(3);
    expect(refused(`<r><c${attrs(4)}/></r>`, limits({ maxAttributes: 3 }))).toMatch(/more than 3 attributes on <c>/);
    expect(refused(`<r${attrs(5000)}/>`)).toMatch(/more than 64 attributes/);
  });

  it('text: exactly maxText characters in one element are read, one more is refused; text, CDATA and entities count together', () => {
    expect(readXml(`<a>${'x'.repeat(100)}</a>`, limits({ maxText: 100 })).text).toHaveLength(100);
    expect(refused(`<a>${'x'.repeat(101)}</a>`, limits({ maxText: 100 }))).toMatch(/^more than 100 characters of text in <a> \(at/);
    expect(refused(`<a>${'x'.repeat(60)}<![CDATA[${'y'.repeat(41)}]]></a>`, limits({ maxText: 100 }))).toMatch(/more than 100 characters of text in <a>/);
    expect(refused(`<a>${'x'.repeat(50)}<b/>${'&amp;'.repeat(51)}</a>`, limits({ maxText: 100 }))).toMatch(/more than 100 characters of text in <a>/);
    // per element: two children with 100 each are fine
    expect(readXml(`<r><a>${'x'.repeat(100)}</a><b>${'y'.repeat(100)}</b></r>`, limits({ maxText: 100 })).children).toHaveLength(2);
  });
});

describe('escapeXml', () => {
  it('escapes the five markup characters and carriage returns, so a value survives a round trip in text and attributes', () => {
    const nasty = `a&b<c>d"e'f\rg`;
    expect(escapeXml(nasty)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;g');
    expect(escapeXml('plain')).toBe('plain');
    const root = readXml(`<a v="${escapeXml(nasty)}">${escapeXml(nasty)}</a>`);
    expect(root.text).toBe(nasty);
    expect(attributeOf(root, '', 'v')).toBe(nasty);
  });
});
