/**
 * Generated data (issue #14 §2): every value SchemaSampler makes for a schema passes the response check
 * understudy itself applies (SchemaCompiler's response validators, 3.0 documents normalised), the same seed gives a
 * deep-equal value and another seed another value; oneOf values match exactly one branch; discriminators carry the
 * value of the chosen subtype; property names give data that looks real. Then the same through a server: a
 * vendor-shaped contract without examples answers GETs whose bodies the journal records as valid, the same on two
 * servers with one seed and different with another.
 */
import { describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../../src/protocols/rest/contract.js';
import { SchemaCompiler } from '../../../src/protocols/rest/schemas/schema-compiler.js';
import { stringFromPattern } from '../../../src/protocols/rest/generate/sample-pattern.js';
import { SchemaSampler } from '../../../src/protocols/rest/generate/schema-sampler.js';
import { call, start } from '../../helpers.js';

const ORDERS = new URL('../../fixtures/third-party/generated-orders.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;
const SEEDS = [1, 2, 3, 42, 1234, 99_999];

type Table = Record<string, { schema: unknown; varies?: false }>;

/** OpenAPI 3.0 schemas: boolean exclusive bounds, nullable, no const, no type lists */
const OAS30: Table = {
  bounds: { schema: { type: 'integer', minimum: 10, maximum: 20 } },
  exclusive30: { schema: { type: 'integer', minimum: 5, exclusiveMinimum: true, maximum: 8, exclusiveMaximum: true }, varies: false },
  exclusiveNumber30: { schema: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true } },
  onlyMaximum: { schema: { type: 'integer', maximum: -5000 } },
  multipleOfInt: { schema: { type: 'integer', multipleOf: 7, minimum: 1, maximum: 100 } },
  multipleOfCents: { schema: { type: 'number', multipleOf: 0.01, minimum: 0.5, maximum: 3 } },
  multipleOfTenth: { schema: { type: 'number', multipleOf: 0.1, minimum: 0, maximum: 50 } },
  int32: { schema: { type: 'integer', format: 'int32', minimum: 2_147_483_000 } },
  int64: { schema: { type: 'integer', format: 'int64', maximum: -9_007_199_254_740_000 } },
  lengths: { schema: { type: 'string', minLength: 20, maxLength: 25 } },
  shortLength: { schema: { type: 'string', minLength: 1, maxLength: 1 } },
  pattern: { schema: { type: 'string', pattern: '^[A-Z]{2}\\d{4}(-[a-z]{2,3})?$' } },
  patternUnanchored: { schema: { type: 'string', pattern: '\\d{3}' } },
  patternAlternation: { schema: { type: 'string', pattern: '^(?:INV|CRN)-[0-9]{6}/(19|20)\\d\\d$' } },
  patternWithLength: { schema: { type: 'string', pattern: '^[a-z0-9._-]+$', minLength: 5, maxLength: 8 } },
  enum: { schema: { type: 'string', enum: ['red', 'green', 'blue', 'cyan', 'magenta'] } },
  dateTime: { schema: { type: 'string', format: 'date-time' } },
  date: { schema: { type: 'string', format: 'date' } },
  time: { schema: { type: 'string', format: 'time' } },
  email: { schema: { type: 'string', format: 'email' } },
  uuid: { schema: { type: 'string', format: 'uuid' } },
  uri: { schema: { type: 'string', format: 'uri' } },
  hostname: { schema: { type: 'string', format: 'hostname' } },
  ipv4: { schema: { type: 'string', format: 'ipv4' } },
  ipv6: { schema: { type: 'string', format: 'ipv6' } },
  byte: { schema: { type: 'string', format: 'byte', maxLength: 16 } },
  binary: { schema: { type: 'string', format: 'binary', minLength: 40 } },
  password: { schema: { type: 'string', format: 'password', minLength: 20 } },
  array: { schema: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 3 } },
  manyItems: { schema: { type: 'array', items: { type: 'string', format: 'uuid' }, minItems: 7 } },
  uniqueFew: { schema: { type: 'array', uniqueItems: true, minItems: 2, items: { type: 'string', enum: ['a', 'b', 'c'] } } },
  emptyArray: { schema: { type: 'array', maxItems: 0, items: { type: 'string' } }, varies: false },
  object: { schema: { type: 'object', required: ['id', 'name'], additionalProperties: false, properties: { id: { type: 'integer', minimum: 1 }, name: { type: 'string', maxLength: 12 }, note: { type: 'string' } } } },
  minMaxProperties: { schema: { type: 'object', minProperties: 3, maxProperties: 3, properties: { a: { type: 'string' }, b: { type: 'integer' } }, additionalProperties: { type: 'boolean' } } },
  maxProperties: { schema: { type: 'object', maxProperties: 1, required: ['x'], properties: { x: { type: 'integer' }, y: { type: 'integer' } } } },
  map: { schema: { type: 'object', additionalProperties: { type: 'integer', minimum: 0, maximum: 9 } } },
  openMap: { schema: { type: 'object', additionalProperties: true, minProperties: 2 } },
  nullable30: { schema: { type: 'string', nullable: true, maxLength: 4 } },
  nullableRef: { schema: { nullable: true, allOf: [{ $ref: '#/components/schemas/Base' }] } },
  allOfRequired: { schema: { allOf: [{ $ref: '#/components/schemas/Base' }, { required: ['label'], properties: { label: { maxLength: 6 } } }] } },
  allOfBounds: { schema: { allOf: [{ type: 'integer', minimum: 0, maximum: 100 }, { minimum: 90, exclusiveMinimum: true }, { multipleOf: 3 }] } },
  not: { schema: { type: 'integer', minimum: 1, maximum: 4, not: { enum: [2, 3] } } },
  oneOfOverlap: { schema: { oneOf: [{ type: 'object' }, { type: 'object', required: ['a'], properties: { a: { type: 'string' } } }] }, varies: false },
  oneOfTypes: { schema: { oneOf: [{ type: 'number' }, { type: 'integer' }, { type: 'string', maxLength: 3 }] } },
  anyOf: { schema: { anyOf: [{ type: 'string', format: 'email' }, { type: 'integer', minimum: 5 }] } },
  pets: { schema: { $ref: '#/components/schemas/Pet' } },
  petsMapped: { schema: { $ref: '#/components/schemas/MappedPet' } },
  animalBase: { schema: { $ref: '#/components/schemas/Animal' } },
  recursive: { schema: { $ref: '#/components/schemas/Tree' } },
};

const COMPONENTS30 = {
  Base: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' }, label: { type: 'string', minLength: 2 } } },
  Pet: {
    oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
    discriminator: { propertyName: 'petType' },
  },
  MappedPet: {
    oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
    discriminator: { propertyName: 'petType', mapping: { kitty: '#/components/schemas/Cat', doggo: 'Dog' } },
  },
  PetBase: { type: 'object', required: ['petType', 'name'], properties: { petType: { type: 'string' }, name: { type: 'string', maxLength: 30 } } },
  Cat: { allOf: [{ $ref: '#/components/schemas/PetBase' }, { type: 'object', required: ['huntingSkill'], properties: { huntingSkill: { type: 'string', enum: ['lazy', 'clueless', 'aggressive'] } } }] },
  Dog: { allOf: [{ $ref: '#/components/schemas/PetBase' }, { type: 'object', required: ['packSize'], properties: { packSize: { type: 'integer', minimum: 0, maximum: 10 } } }] },
  // a base with a discriminator and no oneOf: its subtypes found through their allOf
  Animal: { type: 'object', required: ['kind'], properties: { kind: { type: 'string' }, legs: { type: 'integer', minimum: 0, maximum: 8 } }, discriminator: { propertyName: 'kind' } },
  Bird: { allOf: [{ $ref: '#/components/schemas/Animal' }, { type: 'object', required: ['wingspan'], properties: { wingspan: { type: 'number', minimum: 0.1, maximum: 3 } } }] },
  Fish: { allOf: [{ $ref: '#/components/schemas/Animal' }, { type: 'object', required: ['water'], properties: { water: { type: 'string', enum: ['salt', 'fresh'] } } }] },
  Tree: { type: 'object', required: ['value'], properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/components/schemas/Tree' } } } },
};

/** OpenAPI 3.1 (JSON Schema 2020-12) forms */
const OAS31: Table = {
  exclusive31: { schema: { type: 'integer', exclusiveMinimum: 5, exclusiveMaximum: 9 } },
  exclusiveNumber31: { schema: { type: 'number', exclusiveMinimum: -1, exclusiveMaximum: 0 } },
  typeListNull: { schema: { type: ['string', 'null'], format: 'email' } },
  nullOnly: { schema: { type: 'null' }, varies: false },
  anyOfNull: { schema: { anyOf: [{ $ref: '#/components/schemas/Point' }, { type: 'null' }] } },
  const: { schema: { const: 'fixed' }, varies: false },
  prefixItems: { schema: { type: 'array', prefixItems: [{ type: 'string', format: 'date' }, { type: 'integer', minimum: 0 }], items: false, minItems: 2 } },
  prefixThenItems: { schema: { type: 'array', prefixItems: [{ const: 'head' }], items: { type: 'number', maximum: 0 }, minItems: 3 } },
  contains: { schema: { type: 'array', items: { type: 'integer' }, contains: { minimum: 100 } } },
  refWithSiblings: { schema: { $ref: '#/components/schemas/Point', required: ['label'] } },
  examplesKept: { schema: { type: 'string', examples: ['from-the-contract'] }, varies: false },
  staleExampleIgnored: { schema: { type: 'string', maxLength: 4, examples: ['far too long for the schema'] } },
  patternProperties: { schema: { type: 'object', patternProperties: { '^x-[a-z]+$': { type: 'string' } }, additionalProperties: false, minProperties: 1 } },
  oneOfDiscriminator: { schema: { $ref: '#/components/schemas/Shape' } },
};

const COMPONENTS31 = {
  Point: { type: 'object', required: ['x', 'y'], properties: { x: { type: 'number' }, y: { type: 'number' }, label: { type: 'string' } } },
  Shape: {
    oneOf: [{ $ref: '#/components/schemas/Circle' }, { $ref: '#/components/schemas/Square' }],
    discriminator: { propertyName: 'shape', mapping: { round: '#/components/schemas/Circle' } },
  },
  Circle: { type: 'object', required: ['shape', 'radius'], properties: { shape: { const: 'round' }, radius: { type: 'number', exclusiveMinimum: 0 } } },
  Square: { type: 'object', required: ['shape', 'side'], properties: { shape: { const: 'Square' }, side: { type: 'integer', minimum: 1 } } },
};

function documentOf(version: '3.0.3' | '3.1.0', table: Table, components: Record<string, unknown>): OpenApiDocument {
  const schemas: Record<string, unknown> = { ...components };
  for (const [name, { schema }] of Object.entries(table)) schemas[`T_${name}`] = schema;
  return { openapi: version, info: { title: 'sampler table', version: '1' }, paths: {}, components: { schemas } } as unknown as OpenApiDocument;
}

/** the response check understudy applies to a schema of the document */
function responseCheck(document: OpenApiDocument, dialect: '3.0' | '3.1') {
  const compiler = new SchemaCompiler({ file: 'table.yaml', document, dialect, defaultMount: '/t' });
  return (name: string) => compiler.responseBody(`/components/schemas/${name}`, name);
}

describe.each([
  ['3.0', '3.0.3', OAS30, COMPONENTS30],
  ['3.1', '3.1.0', OAS31, COMPONENTS31],
] as const)('SchemaSampler, OpenAPI %s', (dialect, version, table, components) => {
  const document = documentOf(version, table, components);
  const check = responseCheck(document, dialect);

  it.each(Object.keys(table))('%s: valid for every seed, the same for the same seed, different for different ones', async (name) => {
    const sampler = await SchemaSampler.create(document);
    const again = await SchemaSampler.create(structuredClone(document));
    const ref = { $ref: `#/components/schemas/T_${name}` };
    const validate = check(`T_${name}`);
    const values = SEEDS.map((seed) => {
      const value = sampler.sample(ref, seed);
      const ok = validate(value);
      expect({ seed, value, errors: ok ? [] : validate.errors }).toEqual({ seed, value, errors: [] });
      expect(again.sample(ref, seed)).toEqual(value);
      return JSON.stringify(value);
    });
    if (table[name].varies !== false) expect(new Set(values).size).toBeGreaterThan(1);
  });
});

describe('SchemaSampler specifics', () => {
  const document = documentOf('3.0.3', OAS30, COMPONENTS30);

  it('oneOf with overlapping branches gives a value matching exactly one of them', async () => {
    const sampler = await SchemaSampler.create(document);
    for (const seed of SEEDS) {
      const value = sampler.sample({ $ref: '#/components/schemas/T_oneOfOverlap' }, seed) as Record<string, unknown>;
      expect(value).not.toHaveProperty('a'); // with `a` it would match both branches
    }
  });

  it("a schema's default is served, as its example is, when it keeps the schema (as Prism serves them)", async () => {
    const sampler = await SchemaSampler.create(document);
    const schema = {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['queued', 'sent', 'failed'], default: 'sent' },
        retries: { type: 'integer', minimum: 0, default: 3 },
        stale: { type: 'integer', minimum: 10, default: 3 },
      },
    };
    for (const seed of SEEDS) {
      const value = sampler.sample(schema, seed) as Record<string, number | string>;
      expect(value.status).toBe('sent');
      expect(value.retries).toBe(3);
      expect(value.stale).toBeGreaterThanOrEqual(10); // a default its own schema refuses is not served
    }
  });

  it('discriminators: component name without a mapping, the mapping key with one, subtypes of a base', async () => {
    const sampler = await SchemaSampler.create(document);
    const seen = { Pet: new Set<unknown>(), MappedPet: new Set<unknown>(), Animal: new Set<unknown>() };
    for (let seed = 0; seed < 30; seed++) {
      const pet = sampler.sample({ $ref: '#/components/schemas/Pet' }, seed) as Record<string, unknown>;
      seen.Pet.add(pet.petType);
      expect(pet.petType === 'Cat' ? 'huntingSkill' in pet : 'packSize' in pet).toBe(true);
      const mapped = sampler.sample({ $ref: '#/components/schemas/MappedPet' }, seed) as Record<string, unknown>;
      seen.MappedPet.add(mapped.petType);
      expect(mapped.petType === 'kitty' ? 'huntingSkill' in mapped : 'packSize' in mapped).toBe(true);
      const animal = sampler.sample({ $ref: '#/components/schemas/Animal' }, seed) as Record<string, unknown>;
      seen.Animal.add(animal.kind);
      expect(animal.kind === 'Bird' ? 'wingspan' in animal : 'water' in animal).toBe(true);
    }
    expect([...seen.Pet].sort()).toEqual(['Cat', 'Dog']);
    expect([...seen.MappedPet].sort()).toEqual(['doggo', 'kitty']);
    expect([...seen.Animal].sort()).toEqual(['Bird', 'Fish']);
  });

  it('property names give data that looks real, in any spelling', async () => {
    const str = { type: 'string' };
    const names = ['email', 'city', 'iban', 'createdAt', 'firstName', 'country', 'currency', 'e_mail', 'first_name', 'last_name', 'postal_code', 'updated_at', 'website', 'swift', 'ip_address'];
    const doc = { openapi: '3.0.3', info: { title: 'n', version: '1' }, paths: {}, components: { schemas: { Person: { type: 'object', properties: Object.fromEntries(names.map((n) => [n, str])) } } } } as unknown as OpenApiDocument;
    const sampler = await SchemaSampler.create(doc);
    for (const seed of SEEDS) {
      const p = sampler.sample({ $ref: '#/components/schemas/Person' }, seed) as Record<string, string>;
      expect(p.email).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]+$/);
      expect(p.e_mail).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]+$/);
      expect(p.city).toMatch(/^[A-Z][A-Za-z .'-]+$/);
      expect(mod97(p.iban)).toBe(1);
      for (const instant of [p.createdAt, p.updated_at]) {
        expect(instant).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        expect(Number.isNaN(Date.parse(instant))).toBe(false);
      }
      expect(p.firstName).toMatch(/^[A-Z][a-zA-Z'-]+$/);
      expect(p.first_name).toMatch(/^[A-Z][a-zA-Z'-]+$/);
      expect(p.last_name).toMatch(/^[A-Z][a-zA-Z' -]+$/);
      expect(p.country).toMatch(/^[A-Z]{2}$/);
      expect(p.currency).toMatch(/^[A-Z]{3}$/);
      expect(p.postal_code).toMatch(/^\d{5}(-\d{4})?$/);
      expect(new URL(p.website).protocol).toMatch(/^https?:$/);
      expect(p.swift).toMatch(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/);
      expect(p.ip_address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
  });

  it('a name never overrides a constraint; numbers named like coordinates, prices and instants', async () => {
    const doc = {
      openapi: '3.1.0',
      info: { title: 'n', version: '1' },
      paths: {},
      components: {
        schemas: {
          Record: {
            type: 'object',
            properties: {
              email: { type: 'string', maxLength: 5 },
              city: { type: 'string', pattern: '^[0-9]+$' },
              status: { type: 'string', enum: ['OPEN', 'CLOSED'] },
              country: { type: 'string', minLength: 3, maxLength: 3 },
              latitude: { type: 'number' },
              longitude: { type: 'number' },
              price: { type: 'number' },
              created_at: { type: 'integer' },
              updatedAt: { type: 'integer', maximum: 100 },
            },
          },
        },
      },
    } as unknown as OpenApiDocument;
    const sampler = await SchemaSampler.create(doc);
    for (const seed of SEEDS) {
      const r = sampler.sample({ $ref: '#/components/schemas/Record' }, seed) as Record<string, any>;
      expect(r.email.length).toBeLessThanOrEqual(5);
      expect(r.city).toMatch(/^[0-9]+$/);
      expect(['OPEN', 'CLOSED']).toContain(r.status);
      expect(r.country).toHaveLength(3);
      expect(Math.abs(r.latitude)).toBeLessThanOrEqual(90);
      expect(Math.abs(r.longitude)).toBeLessThanOrEqual(180);
      expect(r.price).toBeGreaterThan(0);
      // epoch seconds in 2025-2026, not milliseconds and not a small number
      expect(r.created_at).toBeGreaterThanOrEqual(Date.parse('2025-01-01T00:00:00Z') / 1000);
      expect(r.created_at).toBeLessThanOrEqual(Date.parse('2027-01-01T00:00:00Z') / 1000);
      expect(r.updatedAt).toBeLessThanOrEqual(100);
    }
  });

  it('never throws: contradictions, dangling and external refs, hostile patterns and sizes give a best effort', async () => {
    const sampler = await SchemaSampler.create(document);
    const absurd: unknown[] = [
      { type: 'integer', minimum: 10, maximum: 1 },
      { type: 'string', minLength: 10, maxLength: 2 },
      { type: 'string', pattern: '(a+)+$(?<=x)\\1[' },
      { type: 'string', pattern: 'x'.repeat(5000) },
      { type: 'string', minLength: 1e12 },
      { type: 'array', minItems: 1e9, items: { type: 'string' } },
      { type: 'object', minProperties: 1e9 },
      { $ref: '#/components/schemas/Nowhere' },
      { $ref: 'other.yaml#/X' },
      { allOf: [{ type: 'string' }, { type: 'integer' }] },
      { oneOf: [{ type: 'string' }, { type: 'string' }] },
      { not: {} },
      { type: 'array', uniqueItems: true, minItems: 5, items: { enum: [1] } },
      { type: 'number', multipleOf: 0.3, minimum: 0.1, maximum: 0.2 },
    ];
    for (const schema of absurd) expect(() => JSON.stringify(sampler.sample(schema, 7))).not.toThrow();
    expect(String(sampler.sample({ type: 'string', minLength: 1e12 }, 1)).length).toBeLessThanOrEqual(100_000);
    expect((sampler.sample({ type: 'array', minItems: 1e9, items: { type: 'string' } }, 1) as unknown[]).length).toBe(100);
  });
});

describe('strings from patterns', () => {
  /** a deterministic stand-in for faker's draws */
  const picker = (seed: number) => {
    let state = seed;
    return (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
  };

  it.each([
    '^[A-Z]{2}\\d{4}$',
    '^(?:INV|CRN)-[0-9]{6}$',
    '^(?<year>19|20)\\d\\d-[01]\\d$',
    '^[^\\s@]+@[^\\s@]+\\.[a-z]{2,}$',
    '^\\+?[1-9]\\d{1,14}$',
    '^[\\w.-]{3,}$',
    '^\\x41\\u0042[\\]\\-]?.$',
    '^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$',
    'ab*c+?d{2,}',
  ])('%s: every string generated matches it', (pattern) => {
    for (let seed = 1; seed <= 20; seed++) expect(stringFromPattern(pattern, picker(seed))).toMatch(new RegExp(pattern, 'u'));
  });

  it('refuses malformed, oversize and unsupported patterns with an error (the sampler then falls back)', () => {
    for (const pattern of ['[a-', '(abc', 'a{3,1}', 'z-a]', '[z-a]', '\\', '*a', '(?=a)b', '(a)\\1', '\\p{L}', '\\bword', 'x'.repeat(2001)]) {
      expect(() => stringFromPattern(pattern, picker(1)), pattern).toThrow();
    }
  });

  it('stays bounded for hostile quantifiers: output capped, endless empty loops cut short', () => {
    expect(stringFromPattern('(a{10000}){10000}', picker(1)).length).toBe(10_000);
    expect(() => stringFromPattern('((?:){1000}){1000}', picker(1))).toThrow(/too long/);
    expect(stringFromPattern('a{99999999999}', picker(1)).length).toBe(10_000);
  });
});

describe('generated responses through a server', () => {
  const paths = ['/orders', '/orders?status=shipped', '/orders/PO-20417', '/orders/PO-20418', '/customers/C-1', '/customers/C-2', '/customers/C-3', '/payment-methods/3f1c2a5e-2b7d-4c1e-9a8f-0d6b5e4c3a21', '/payment-methods/8d2e4f60-1a3b-4c5d-8e7f-9a0b1c2d3e4f', '/payment-methods/00000000-0000-4000-8000-000000000000'];

  async function bodies(seed: number): Promise<unknown[]> {
    const s = await start({ contracts: [`${ORDERS}@/desk`], systems: OFF, seed });
    expect(await s.ready).toEqual([]);
    const out: unknown[] = [];
    for (const path of paths) {
      const r = await call(`${s.url}/desk${path}`);
      expect(r.status, path).toBe(200);
      out.push(r.body);
    }
    const journal = await call(`${s.url}/__admin/journal?system=desk&limit=${paths.length}`);
    expect(journal.body.entries).toHaveLength(paths.length);
    for (const entry of journal.body.entries) expect({ path: entry.path, errors: entry.contract.errors }).toEqual({ path: entry.path, errors: [] });
    return out;
  }

  it('answers with bodies the response check accepts, the same per seed on separate servers, different for another seed', async () => {
    const first = await bodies(7);
    const second = await bodies(7);
    const other = await bodies(8);
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    // what the contract's subtypes and polymorphism say shows in the data
    const customers = first.slice(4, 7) as Array<Record<string, unknown>>;
    for (const c of customers) expect(c.customer_type === 'business' ? 'vat_id' in c : 'first_name' in c).toBe(true);
    const methods = first.slice(7) as Array<Record<string, unknown>>;
    for (const m of methods) expect(['card', 'sepa', 'Wallet']).toContain(m.kind);
    const order = first[2] as { number: string; lines: unknown[]; total: { amount: number } };
    expect(order.number).toMatch(/^PO-\d{4,8}$/);
    expect(order.lines.length).toBeGreaterThanOrEqual(1);
  });
});

/** an IBAN's ISO 7064 mod-97 check value (1 for a valid one) */
function mod97(iban: string): number {
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return rest;
}
