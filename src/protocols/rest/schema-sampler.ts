/**
 * Values generated from a JSON Schema (an OpenAPI response schema, header schema, ...) with a seeded faker, for
 * operations that have no hand-written handler and no example. The same (schema, seed) gives the same value.
 *
 * Why a hand-written schema walker: json-schema-faker, the usual library, keeps global options and a global random
 * source, which breaks per-request determinism; openapi-sampler produces one fixed placeholder per schema and no
 * data. The walker below covers what response schemas use (refs, allOf/oneOf/anyOf, enums, formats, bounds).
 */
import type { Faker } from '@faker-js/faker';
import type { OpenAPIV3 } from 'openapi-types';
import { resolveRef, type OpenApiDocument } from './contract.js';

type Schema = OpenAPIV3.SchemaObject & { const?: unknown; examples?: unknown[] };

const MAX_DEPTH = 8;

export class SchemaSampler {
  constructor(
    private readonly document: OpenApiDocument,
    private readonly faker: Faker,
  ) {}

  /** faker (English only) loaded on first need: it costs ~100 ms and ~25 MB */
  static async create(document: OpenApiDocument): Promise<SchemaSampler> {
    const { faker } = await import('@faker-js/faker/locale/en');
    return new SchemaSampler(document, faker);
  }

  /** a value for `schema` (a schema object or a {$ref}), seeded: the same (schema, seed) gives the same value */
  sample(schema: unknown, seed: number, propertyName = ''): unknown {
    if (!schema) return {};
    this.faker.seed(seed);
    return this.walk(schema, 0, propertyName);
  }

  private walk(raw: unknown, depth: number, propertyName: string): unknown {
    const schema = resolveRef<Schema>(this.document, raw, '').value;
    if (!schema || typeof schema !== 'object') return null;
    const f = this.faker;
    if (schema.example !== undefined) return schema.example;
    if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
    if (schema.default !== undefined) return schema.default;
    if (schema.const !== undefined) return schema.const;
    if (schema.enum?.length) return f.helpers.arrayElement(schema.enum);
    if (schema.allOf?.length) {
      const parts = schema.allOf.map((s) => this.walk(s, depth + 1, propertyName));
      return parts.every((p) => p && typeof p === 'object' && !Array.isArray(p)) ? Object.assign({}, ...parts) : parts[0];
    }
    const alternatives = schema.oneOf ?? schema.anyOf;
    if (alternatives?.length) return this.walk(alternatives[0], depth + 1, propertyName);

    const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type ?? (schema.properties ? 'object' : undefined);
    switch (type) {
      case 'object': {
        if (depth >= MAX_DEPTH) return {};
        const out: Record<string, unknown> = {};
        for (const [name, prop] of Object.entries(schema.properties ?? {})) {
          // writeOnly properties (a password) are never in a response, as OpenAPI says
          if (resolveRef<Schema>(this.document, prop, '').value?.writeOnly === true) continue;
          out[name] = this.walk(prop, depth + 1, name);
        }
        return out;
      }
      case 'array': {
        if (depth >= MAX_DEPTH) return [];
        const items = (schema as OpenAPIV3.ArraySchemaObject).items;
        const count = Math.max(schema.minItems ?? 1, Math.min(schema.maxItems ?? 2, 2));
        return Array.from({ length: count }, () => this.walk(items, depth + 1, propertyName));
      }
      case 'integer':
        return f.number.int({ min: lowerBound(schema, 0), max: upperBound(schema, lowerBound(schema, 0) + 1000) });
      case 'number':
        return f.number.float({ min: lowerBound(schema, 0), max: upperBound(schema, lowerBound(schema, 0) + 1000), fractionDigits: 2 });
      case 'boolean':
        return f.datatype.boolean();
      case 'string':
        return this.string(schema, propertyName);
      default:
        return null;
    }
  }

  private string(schema: Schema, propertyName: string): string {
    const f = this.faker;
    switch (schema.format) {
      case 'date-time':
        return f.date.between({ from: '2025-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' }).toISOString();
      case 'date':
        return f.date.between({ from: '2025-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' }).toISOString().slice(0, 10);
      case 'email':
        return f.internet.email().toLowerCase();
      case 'uuid':
        return f.string.uuid();
      case 'uri':
      case 'url':
        return f.internet.url();
      case 'hostname':
        return f.internet.domainName();
      case 'ipv4':
        return f.internet.ipv4();
      case 'ipv6':
        return f.internet.ipv6();
    }
    if (schema.pattern) {
      try {
        return f.helpers.fromRegExp(schema.pattern);
      } catch {
        // patterns faker cannot invert fall through to plain text
      }
    }
    const text = this.byName(propertyName);
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? Math.max(min, 64);
    if (text.length >= min && text.length <= max) return text;
    return f.string.alpha({ length: Math.min(max, Math.max(min, 8)) });
  }

  /** plausible text for common property names, so generated records read like data */
  private byName(name: string): string {
    const f = this.faker;
    const n = name.toLowerCase();
    if (n === 'id' || n.endsWith('id')) return f.string.alphanumeric({ length: 10, casing: 'upper' });
    if (n.includes('email')) return f.internet.email().toLowerCase();
    if (n.includes('firstname')) return f.person.firstName();
    if (n.includes('lastname')) return f.person.lastName();
    if (n.includes('company') || n.includes('account')) return f.company.name();
    if (n === 'name' || n.endsWith('name')) return f.commerce.productName();
    if (n.includes('phone')) return f.phone.number();
    if (n.includes('city')) return f.location.city();
    if (n.includes('country')) return f.location.countryCode();
    if (n.includes('street') || n.includes('address')) return f.location.streetAddress();
    if (n.includes('currency')) return f.finance.currencyCode();
    if (n.includes('description') || n.includes('comment') || n.includes('note')) return f.lorem.sentence();
    return f.lorem.word();
  }
}

function lowerBound(schema: Schema, fallback: number): number {
  const ex = (schema as { exclusiveMinimum?: unknown }).exclusiveMinimum;
  if (typeof ex === 'number') return ex + 1;
  return schema.minimum ?? fallback;
}

function upperBound(schema: Schema, fallback: number): number {
  const ex = (schema as { exclusiveMaximum?: unknown }).exclusiveMaximum;
  if (typeof ex === 'number') return ex - 1;
  return schema.maximum ?? fallback;
}
