/**
 * The WMS's warehouses: a fixed, ordered list of distribution centres. A system configured with N warehouses
 * uses the first N. The order matters: reservations without a warehouse are allocated greedily in this order,
 * and stock columns are laid out in it.
 */

export interface Warehouse {
  warehouseId: string;
  name: string;
  city: string;
  countryCode: string;
  timeZone: string;
}

const ALL_WAREHOUSES: readonly Warehouse[] = [
  { warehouseId: 'WH-RTM-01', name: 'Rotterdam DC', city: 'Rotterdam', countryCode: 'NL', timeZone: 'Europe/Amsterdam' },
  { warehouseId: 'WH-ATL-01', name: 'Atlanta DC', city: 'Atlanta', countryCode: 'US', timeZone: 'America/New_York' },
  { warehouseId: 'WH-SIN-01', name: 'Singapore DC', city: 'Singapore', countryCode: 'SG', timeZone: 'Asia/Singapore' },
  { warehouseId: 'WH-FRA-01', name: 'Frankfurt DC', city: 'Frankfurt am Main', countryCode: 'DE', timeZone: 'Europe/Berlin' },
  { warehouseId: 'WH-DFW-01', name: 'Dallas DC', city: 'Dallas', countryCode: 'US', timeZone: 'America/Chicago' },
  { warehouseId: 'WH-TOR-01', name: 'Toronto DC', city: 'Toronto', countryCode: 'CA', timeZone: 'America/Toronto' },
  { warehouseId: 'WH-SAO-01', name: 'São Paulo DC', city: 'São Paulo', countryCode: 'BR', timeZone: 'America/Sao_Paulo' },
  { warehouseId: 'WH-TYO-01', name: 'Tokyo DC', city: 'Tokyo', countryCode: 'JP', timeZone: 'Asia/Tokyo' },
  { warehouseId: 'WH-SYD-01', name: 'Sydney DC', city: 'Sydney', countryCode: 'AU', timeZone: 'Australia/Sydney' },
  { warehouseId: 'WH-JNB-01', name: 'Johannesburg DC', city: 'Johannesburg', countryCode: 'ZA', timeZone: 'Africa/Johannesburg' },
];

export const MAX_WAREHOUSES = ALL_WAREHOUSES.length;

/** The first `count` warehouses; throws when the count is out of range (a configuration error). */
export function warehousesFor(count: number): readonly Warehouse[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_WAREHOUSES) {
    throw new Error(`wms: warehouses must be an integer from 1 to ${MAX_WAREHOUSES}, got ${count}`);
  }
  return ALL_WAREHOUSES.slice(0, count);
}
