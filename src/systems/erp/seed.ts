/**
 * The ERP's seeded base: 250 products, `customers` customers, `invoices` invoices with their seeded sales orders,
 * and `invoiceLines` invoice lines (1,000,000 by default), as a pure function of (seed, sizes).
 *
 * Why columns and formulas instead of records: a million line objects would cost hundreds of MB and seconds per
 * start. Instead invoice i owns the contiguous line range [floor(i·L/I), floor((i+1)·L/I)), and line g's product
 * and quantity are a cheap integer hash of (seed, g) (its unit price is its product's), so a line is computed when
 * read. Invoices are a few typed arrays (customer, dates, status, net total); the totals are summed over all lines
 * once, here. Customers and products are small and kept as frozen records.
 *
 * The base is immutable and cached per (seed, sizes) at module level: every workspace with that configuration
 * shares it and only adds overlays (state.ts). Nothing here reads the clock: seeded dates derive from
 * ERP_BASE_MS (2026-01-01), invoice dates spread over the two years before it, in id order.
 *
 * Seeded sales orders: invoice i bills sales order 0070000001 + i, INVOICED, with exactly the invoice's lines,
 * computed on demand (seededOrder in state.ts). A sales order holds 1 .. 100 lines (the WSDL's maxOccurs), so an
 * invoice with no line or more than 100 bills no seeded order (SalesOrderId nil); with the default sizes
 * (100 lines per invoice) every invoice has its order.
 */
import { hashKey, randomStream } from '../../util/seeded-random.js';
import { CUSTOMER_BASE, customerId, ERP_BASE_DAY, ERP_BASE_MS, PRODUCT_COUNT, productId } from './ids.js';
import { INVOICE_STATUSES, type CurrencyCode, type CustomerRecord, type Product } from './records.js';

/** the most lines a sales order holds (the WSDL's SalesOrder/Line maxOccurs) */
export const MAX_ORDER_LINES = 100;
/** seeded invoices are dated over this many days before the base date */
const INVOICE_SPAN_DAYS = 730;
const DAY_MS = 86_400_000;

export interface ErpSizes {
  customers: number;
  invoices: number;
  invoiceLines: number;
}

export interface ErpBase {
  readonly seed: number;
  readonly sizes: Readonly<ErpSizes>;
  readonly products: readonly Product[];
  readonly customers: readonly CustomerRecord[];
  /** seeded customer index by ExternalId */
  readonly customerByExternalId: ReadonlyMap<string, number>;
  /** per invoice: the seeded customer's index, invoice and due day (days since epoch), status index, net total */
  readonly invoiceCustomer: Int32Array;
  readonly invoiceDay: Int32Array;
  readonly invoiceDueDay: Int32Array;
  readonly invoiceStatus: Uint8Array;
  readonly invoiceNetCents: Float64Array;
  /** invoices of customer c, ascending: invoiceIndexesByCustomer[customerInvoiceStart[c] .. customerInvoiceStart[c+1]) */
  readonly customerInvoiceStart: Int32Array;
  readonly invoiceIndexesByCustomer: Int32Array;
  /** statusBefore[s·(I+1) + i]: how many of invoices 0 .. i-1 have status s (counts without scanning) */
  readonly statusBefore: Int32Array;
  /** how many invoices bill a seeded sales order (1 .. MAX_ORDER_LINES lines) */
  readonly seededOrderCount: number;
  /** hash salts for lines and seeded orders */
  readonly lineSalt: number;
  readonly orderSalt: number;
}

// ---- integer hashing: the per-line "random" source -----------------------------------------------------------

/** MurmurHash3's 32-bit finaliser: a good avalanche for sequential inputs, a handful of integer ops. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** hash of (salt, n) for n < 2^31 */
export const hashOf = (salt: number, n: number): number => mix32((salt ^ Math.imul(n, 0x9e3779b1)) >>> 0);

/** the first line of invoice i (i = invoiceCount gives lineCount) */
export function lineStartOf(base: ErpSizes, invoice: number): number {
  return base.invoices === 0 ? 0 : Math.floor((invoice * base.invoiceLines) / base.invoices);
}

/** the invoice owning global line g (0 <= g < invoiceLines): the i with lineStartOf(i) <= g < lineStartOf(i+1) */
export function invoiceOfLine(base: ErpSizes, line: number): number {
  // floor(i·L/I) <= g  <=>  i·L < (g+1)·I  <=>  i <= ceil((g+1)·I/L) - 1 = floor(((g+1)·I - 1) / L)
  return Math.floor(((line + 1) * base.invoices - 1) / base.invoiceLines);
}

export const lineProductIndex = (base: ErpBase, line: number): number => hashOf(base.lineSalt, line) % PRODUCT_COUNT;
export const lineQuantity = (base: ErpBase, line: number): number => 1 + (mix32(hashOf(base.lineSalt, line) ^ 0x5bd1e995) % 24);

// ---- word lists -------------------------------------------------------------------------------------------------

const MATERIALS = [
  'Hex Bolt', 'Ball Bearing', 'Hydraulic Hose', 'Gear Motor', 'Pressure Valve', 'Steel Bracket', 'Copper Cable',
  'Control Relay', 'Pump Seal', 'Air Filter', 'Drive Belt', 'Circuit Breaker', 'Pipe Fitting', 'Torque Sensor',
  'Conveyor Roller', 'Safety Gloves', 'Cable Ties', 'Spring Washer', 'Servo Drive', 'Flow Meter', 'Thermal Fuse',
  'Pallet Wrap', 'Lubricant Drum', 'Welding Rod', 'Shaft Coupling',
];
const GRADES = ['Standard', 'Heavy-Duty', 'Stainless', 'Compact', 'Industrial', 'Galvanized', 'High-Temp', 'Precision', 'Reinforced', 'Economy'];

const NAME_FIRST = [
  'Nordwind', 'Alpen', 'Keystone', 'Bluewater', 'Summit', 'Redwood', 'Lakeside', 'Ironbridge', 'Silverline', 'Harbor',
  'Northstar', 'Meridian', 'Westfield', 'Oakridge', 'Crescent', 'Pinnacle', 'Brightwater', 'Granite', 'Evergreen', 'Riverside',
];
const NAME_SECOND = [
  'Logistics', 'Industries', 'Foods', 'Retail', 'Engineering', 'Components', 'Supplies', 'Trading', 'Manufacturing',
  'Distribution', 'Systems', 'Pharma', 'Packaging', 'Textiles', 'Automotive', 'Electronics',
];

interface Country {
  code: string;
  currency: CurrencyCode;
  cities: readonly string[];
  forms: readonly string[];
  weight: number;
}

const COUNTRIES: readonly Country[] = [
  { code: 'DE', currency: 'EUR', cities: ['Hamburg', 'Munich', 'Cologne', 'Stuttgart', 'Leipzig'], forms: ['GmbH', 'AG', 'GmbH & Co. KG'], weight: 25 },
  { code: 'US', currency: 'USD', cities: ['Chicago', 'Houston', 'Denver', 'Atlanta', 'Seattle', 'Boston'], forms: ['Inc.', 'LLC', 'Corp.'], weight: 20 },
  { code: 'GB', currency: 'GBP', cities: ['London', 'Manchester', 'Leeds', 'Bristol', 'Glasgow'], forms: ['Ltd', 'PLC'], weight: 15 },
  { code: 'FR', currency: 'EUR', cities: ['Paris', 'Lyon', 'Toulouse', 'Lille', 'Nantes'], forms: ['SAS', 'SA'], weight: 10 },
  { code: 'NL', currency: 'EUR', cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Eindhoven'], forms: ['B.V.'], weight: 8 },
  { code: 'IT', currency: 'EUR', cities: ['Milan', 'Turin', 'Bologna'], forms: ['S.p.A.', 'S.r.l.'], weight: 7 },
  { code: 'ES', currency: 'EUR', cities: ['Madrid', 'Barcelona', 'Valencia'], forms: ['S.L.', 'S.A.'], weight: 7 },
  { code: 'AT', currency: 'EUR', cities: ['Vienna', 'Graz', 'Linz'], forms: ['GmbH'], weight: 5 },
  { code: 'IE', currency: 'EUR', cities: ['Dublin', 'Cork'], forms: ['Ltd'], weight: 3 },
];
const COUNTRY_WEIGHT = COUNTRIES.reduce((sum, c) => sum + c.weight, 0);

const pick = <T>(list: readonly T[], r: number): T => list[Math.floor(r * list.length)];

function pickCountry(r: number): Country {
  let at = r * COUNTRY_WEIGHT;
  for (const c of COUNTRIES) {
    if (at < c.weight) return c;
    at -= c.weight;
  }
  return COUNTRIES[COUNTRIES.length - 1];
}

// ---- the cache ---------------------------------------------------------------------------------------------------

/** bases kept (each ~33 bytes per invoice + the customers): the configurations a process runs with at once */
const BASES_REMEMBERED = 4;
const bases = new Map<string, ErpBase>();

/** The seeded base for (seed, sizes), built once and shared by every workspace (and every state) asking for it. */
export function erpBase(seed: number, sizes: ErpSizes): ErpBase {
  const key = `${seed}:${sizes.customers}:${sizes.invoices}:${sizes.invoiceLines}`;
  let base = bases.get(key);
  if (base === undefined) {
    if (bases.size >= BASES_REMEMBERED) bases.delete(bases.keys().next().value as string);
    base = buildBase(seed, sizes);
    bases.set(key, base);
  }
  return base;
}

/** Builds a base without the cache (for measuring it). */
export function buildBase(seed: number, sizes: ErpSizes): ErpBase {
  const { customers: C, invoices: I, invoiceLines: L } = sizes;
  if (C < 1 && I > 0) throw new Error('erp: invoices need at least one customer');
  const products = seedProducts(seed);
  const customers = seedCustomers(seed, C);
  const customerByExternalId = new Map<string, number>();
  customers.forEach((c, i) => c.externalId !== null && customerByExternalId.set(c.externalId, i));

  // invoices: one stream, a fixed number of draws per invoice
  const next = randomStream(hashKey(seed, 'erp-invoices', C, I));
  const invoiceCustomer = new Int32Array(I);
  const invoiceDay = new Int32Array(I);
  const invoiceDueDay = new Int32Array(I);
  const invoiceStatus = new Uint8Array(I);
  const perCustomer = new Int32Array(C + 1);
  const TERMS = [14, 30, 30, 30, 45, 60];
  const firstDay = ERP_BASE_DAY - INVOICE_SPAN_DAYS;
  for (let i = 0; i < I; i++) {
    const customer = Math.floor(next() * C);
    invoiceCustomer[i] = customer;
    perCustomer[customer + 1]++;
    // non-decreasing in i, the last one the day before the base date: FromDate/ToDate binary-search
    invoiceDay[i] = firstDay + Math.floor((i * INVOICE_SPAN_DAYS) / I);
    invoiceDueDay[i] = invoiceDay[i] + pick(TERMS, next());
    const r = next();
    // still due at the base date: mostly open; past due: mostly paid, some overdue
    invoiceStatus[i] = invoiceDueDay[i] >= ERP_BASE_DAY ? (r < 0.85 ? 0 : 1) : r < 0.82 ? 1 : 2;
  }

  const customerInvoiceStart = new Int32Array(C + 1);
  for (let c = 0; c < C; c++) customerInvoiceStart[c + 1] = customerInvoiceStart[c] + perCustomer[c + 1];
  const fill = customerInvoiceStart.slice(0, C);
  const invoiceIndexesByCustomer = new Int32Array(I);
  for (let i = 0; i < I; i++) invoiceIndexesByCustomer[fill[invoiceCustomer[i]]++] = i;

  const statusBefore = new Int32Array(INVOICE_STATUSES.length * (I + 1));
  for (let s = 0; s < INVOICE_STATUSES.length; s++) {
    const at = s * (I + 1);
    for (let i = 0; i < I; i++) statusBefore[at + i + 1] = statusBefore[at + i] + (invoiceStatus[i] === s ? 1 : 0);
  }

  // invoice totals: the one pass over every line (inlined hashing: this loop is the base's cost)
  const lineSalt = hashKey(seed, 'erp-lines');
  const prices = new Float64Array(PRODUCT_COUNT);
  products.forEach((p, i) => (prices[i] = p.unitPriceCents));
  const invoiceNetCents = new Float64Array(I);
  let seededOrderCount = 0;
  for (let i = 0, start = 0; i < I; i++) {
    const end = Math.floor(((i + 1) * L) / I);
    let total = 0;
    for (let g = start; g < end; g++) {
      const h = hashOf(lineSalt, g);
      total += (1 + (mix32(h ^ 0x5bd1e995) % 24)) * prices[h % PRODUCT_COUNT];
    }
    invoiceNetCents[i] = total;
    const count = end - start;
    if (count >= 1 && count <= MAX_ORDER_LINES) seededOrderCount++;
    start = end;
  }

  return Object.freeze({
    seed,
    sizes: Object.freeze({ customers: C, invoices: I, invoiceLines: L }),
    products,
    customers,
    customerByExternalId,
    invoiceCustomer,
    invoiceDay,
    invoiceDueDay,
    invoiceStatus,
    invoiceNetCents,
    customerInvoiceStart,
    invoiceIndexesByCustomer,
    statusBefore,
    seededOrderCount,
    lineSalt,
    orderSalt: hashKey(seed, 'erp-orders'),
  });
}

function seedProducts(seed: number): readonly Product[] {
  const next = randomStream(hashKey(seed, 'erp-products'));
  const shift = Math.floor(next() * GRADES.length);
  const products: Product[] = [];
  for (let i = 0; i < PRODUCT_COUNT; i++) {
    // 25 materials × 10 grades: every description distinct
    const description = `${GRADES[(Math.floor(i / MATERIALS.length) + shift) % GRADES.length]} ${MATERIALS[i % MATERIALS.length]}`;
    // 1.00 .. 2,500.00, most of them cheap
    const unitPriceCents = 100 + Math.floor(next() ** 2 * 249_900);
    products.push(Object.freeze({ index: i, id: productId(i), description, unitPriceCents }));
  }
  return Object.freeze(products);
}

function seedCustomers(seed: number, count: number): readonly CustomerRecord[] {
  const next = randomStream(hashKey(seed, 'erp-customers'));
  const customers: CustomerRecord[] = [];
  const firstCreated = ERP_BASE_MS - 5 * 365 * DAY_MS;
  const span = 4 * 365 * DAY_MS;
  for (let i = 0; i < count; i++) {
    // eight draws per customer, whatever the outcome
    const [r1, r2, r3, r4, r5, r6, r7, r8] = [next(), next(), next(), next(), next(), next(), next(), next()];
    const country = pickCountry(r1);
    const first = pick(NAME_FIRST, r2);
    const second = pick(NAME_SECOND, r3);
    const form = pick(country.forms, r4);
    const createdAt = firstCreated + Math.floor((i * span) / count / 1000) * 1000;
    customers.push(
      Object.freeze({
        id: customerId(i),
        number: CUSTOMER_BASE + i,
        externalId: r5 < 0.8 ? `LEGACY-${String(i + 1).padStart(6, '0')}` : null,
        name: `${first} ${second} ${form}`,
        email: r6 < 0.92 ? `ap@${first}-${second}.example`.toLowerCase() : null,
        city: pick(country.cities, r7),
        country: country.code,
        currencyCode: country.currency,
        // a quarter without a limit; the rest 10,000.00 .. 500,000.00 in steps of 10,000.00
        creditLimitCents: r8 < 0.25 ? null : (1 + Math.floor(((r8 - 0.25) / 0.75) * 50)) * 1_000_000,
        // ~2% blocked (the fractional part of r5, independent of r5 < 0.8)
        blocked: (r5 * 50) % 1 < 0.02,
        createdAt,
        // changed some time after creation, before the base date
        changedAt: createdAt + Math.floor((r6 * (ERP_BASE_MS - createdAt)) / 1000) * 1000,
        version: 1,
      }),
    );
  }
  return Object.freeze(customers);
}
