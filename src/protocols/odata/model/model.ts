/**
 * The OData model as typed data: what the CSDL reader (csdl-reader.ts) produces and what everything else of the
 * OData face reads — the v2 EDMX generator (edmx-v2.ts), the rows of the ERP's sets (erp-rows.ts), and later the
 * query evaluator, the serialisers and the write checks. Kept apart from the reader so that those depend on the
 * model, not on XML.
 *
 * Only what the ERP's model uses and Salesforce Connect maps is representable: entity types with primitive
 * properties, single-property or composite keys, navigation properties with referential constraints, one entity
 * container with entity sets and their navigation bindings. The reader refuses the rest by name.
 */

/** the primitive types the model supports (a subset of CSDL 4.0's Edm types) */
export const PRIMITIVE_TYPES = [
  'Edm.String',
  'Edm.Boolean',
  'Edm.Int16',
  'Edm.Int32',
  'Edm.Int64',
  'Edm.Decimal',
  'Edm.Double',
  'Edm.Date',
  'Edm.DateTimeOffset',
  'Edm.Guid',
] as const;
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

export const isPrimitiveType = (t: string): t is PrimitiveType => (PRIMITIVE_TYPES as readonly string[]).includes(t);

export interface Property {
  readonly name: string;
  readonly type: PrimitiveType;
  readonly nullable: boolean;
  /** Edm.String only; undefined: unbounded (Salesforce: Text(128)) */
  readonly maxLength?: number;
  /** Edm.Decimal: total digits; Edm.DateTimeOffset: fractional-second digits */
  readonly precision?: number;
  /** Edm.Decimal only: digits after the point */
  readonly scale?: number;
}

export interface ReferentialConstraint {
  /** the property of the type declaring the navigation property (the foreign key) */
  readonly property: string;
  /** the property of the target type it refers to */
  readonly referencedProperty: string;
}

export interface NavigationProperty {
  readonly name: string;
  /** the target entity type's qualified name */
  readonly target: string;
  /** Collection(...): to many */
  readonly collection: boolean;
  /** a single-valued navigation property that may be empty (always false for collections) */
  readonly nullable: boolean;
  /** the navigation property of the target type that leads back, when declared */
  readonly partner?: string;
  readonly constraints: readonly ReferentialConstraint[];
}

export interface EntityType {
  /** the simple name (Customer) */
  readonly name: string;
  /** Namespace.Name (Understudy.Erp.Customer) */
  readonly qualifiedName: string;
  /** key property names, in order */
  readonly key: readonly string[];
  /** in declaration order */
  readonly properties: readonly Property[];
  readonly navigationProperties: readonly NavigationProperty[];
  property(name: string): Property | undefined;
  navigationProperty(name: string): NavigationProperty | undefined;
}

export interface NavigationBinding {
  /** a navigation property of the set's type */
  readonly path: string;
  /** the entity set it leads to */
  readonly target: string;
}

export interface EntitySet {
  readonly name: string;
  readonly entityType: EntityType;
  readonly bindings: readonly NavigationBinding[];
  /** from the Capabilities vocabulary's Insert/Update/DeleteRestrictions; true when not stated */
  readonly insertable: boolean;
  readonly updatable: boolean;
  readonly deletable: boolean;
}

export interface Model {
  /** the schema's namespace (Understudy.Erp) */
  readonly namespace: string;
  /** the entity container's name (ErpService) */
  readonly containerName: string;
  /** in declaration order */
  readonly entityTypes: readonly EntityType[];
  readonly entitySets: readonly EntitySet[];
  entityType(qualifiedName: string): EntityType | undefined;
  entitySet(name: string): EntitySet | undefined;
  /** the CSDL text the model was read from: the v4 $metadata as served */
  readonly csdl: string;
}

/**
 * The Salesforce Connect field type a property syncs to (SALESFORCE.md §3, type mapping): for checks that the
 * model syncs as intended (no Text(128) by accident, no Long Text Area).
 */
export function salesforceFieldType(p: Property): string {
  switch (p.type) {
    case 'Edm.String':
      if (p.maxLength === undefined) return 'Text(128)';
      return p.maxLength <= 255 ? `Text(${p.maxLength})` : 'LongTextArea';
    case 'Edm.Boolean':
      return 'Checkbox';
    case 'Edm.Date':
    case 'Edm.DateTimeOffset':
      return 'DateTime';
    case 'Edm.Guid':
      return 'Text';
    default:
      return 'Number';
  }
}

/**
 * Why a value does not fit a property, or undefined when it does. Values are the JSON-side ones the ERP's rows
 * hold (erp-rows.ts): strings, numbers (Decimal too), booleans, YYYY-MM-DD dates, ISO 8601 instants, null.
 * For the rows' checks now; for request bodies of writes later.
 */
export function valueProblem(p: Property, value: unknown): string | undefined {
  if (value === null || value === undefined) return p.nullable ? undefined : `${p.name} must not be null`;
  switch (p.type) {
    case 'Edm.String':
    case 'Edm.Guid':
      if (typeof value !== 'string') return `${p.name} must be a string`;
      // the same ERP answers over SOAP and Atom, whose XML 1.0 cannot carry these
      if (XML_FORBIDDEN.test(value)) return `${p.name} contains a control character (other than tab, line feed and carriage return), which this system cannot store`;
      if (p.type === 'Edm.Guid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return `${p.name} must be a GUID`;
      // MaxLength counts characters (code points), not UTF-16 units
      if (p.maxLength !== undefined && [...value].length > p.maxLength) return `${p.name} is longer than ${p.maxLength} characters`;
      return undefined;
    case 'Edm.Boolean':
      return typeof value === 'boolean' ? undefined : `${p.name} must be a boolean`;
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64': {
      const bits = p.type === 'Edm.Int16' ? 15 : p.type === 'Edm.Int32' ? 31 : 53;
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${p.name} must be an integer`;
      return value >= -(2 ** bits) && value < 2 ** bits ? undefined : `${p.name} is out of range for ${p.type}`;
    }
    case 'Edm.Double':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `${p.name} must be a number`;
    case 'Edm.Decimal':
      return decimalProblem(p, value);
    case 'Edm.Date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
        ? undefined
        : `${p.name} must be a date (YYYY-MM-DD)`;
    case 'Edm.DateTimeOffset': {
      const m = typeof value === 'string' ? /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.(\d+))?)?(?:Z|[+-]\d{2}:\d{2})$/.exec(value) : null;
      if (!m || Number.isNaN(Date.parse(value as string))) return `${p.name} must be a date and time with an offset (ISO 8601)`;
      // Precision: the fractional-second digits the property holds (0 when not stated)
      const digits = m[1]?.length ?? 0;
      return digits > (p.precision ?? 0) ? `${p.name} has more than ${p.precision ?? 0} fractional-second digits` : undefined;
    }
  }
}

/** characters XML 1.0 cannot carry: C0 controls other than tab, LF and CR; U+FFFE and U+FFFF; lone surrogates */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function decimalProblem(p: Property, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${p.name} must be a number`;
  // the shortest decimal text of the number, as JSON writes it (no exponent below 1e21)
  const text = Math.abs(value).toString();
  if (/e/.test(text)) return `${p.name} has too many digits`;
  const [whole, fraction = ''] = text.split('.');
  if (p.scale !== undefined && fraction.length > p.scale) return `${p.name} has more than ${p.scale} digits after the point`;
  if (p.precision !== undefined && (whole === '0' ? 0 : whole.length) > p.precision - (p.scale ?? 0)) {
    return `${p.name} has more than ${p.precision - (p.scale ?? 0)} digits before the point`;
  }
  return undefined;
}
