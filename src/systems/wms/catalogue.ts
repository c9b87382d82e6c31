/**
 * The item catalogue: SKU-1 ... SKU-N, each described by a pure function of (seed, index).
 *
 * Descriptors are built from the word lists below rather than with faker: building one takes about a
 * microsecond (an export of 1,000,000 SKUs must not spend seconds on names), the output cannot change under us
 * when a faker release edits its locale data, and the categories are a closed list the contract can enumerate.
 *
 * Nothing here is per workspace: the catalogue for a seed is shared by every workspace with that seed, and
 * recently used descriptors are cached (bounded) so that the hot path (GET /inventory/{sku}) never rebuilds one.
 */
import { hashKey, randomInt, seededRandom } from '../../util/seeded-random.js';
import { SEED_EPOCH_MS } from './seed.js';

export const CATEGORIES = [
  'apparel',
  'footwear',
  'electronics',
  'home-kitchen',
  'garden',
  'tools',
  'toys',
  'sports-outdoors',
  'office',
  'beauty',
  'grocery',
  'automotive',
] as const;
export type Category = (typeof CATEGORIES)[number];

export type UnitOfMeasure = 'EA' | 'PK' | 'BX' | 'CS';

export interface ItemDescriptor {
  sku: string;
  name: string;
  description: string;
  category: Category;
  unitOfMeasure: UnitOfMeasure;
  weightKg: number;
  reorderPoint: number;
  barcode: string;
  status: 'active' | 'discontinued';
  createdAt: string;
}

/** Product nouns per category, with the usual unit of measure and a weight range in kg. */
const PRODUCTS: Record<Category, { nouns: readonly string[]; units: readonly UnitOfMeasure[]; kg: [number, number] }> = {
  apparel: { nouns: ['Crew Sweater', 'Rain Jacket', 'Oxford Shirt', 'Chino Trousers', 'Wool Beanie', 'Fleece Vest', 'Polo Shirt', 'Merino Socks'], units: ['EA', 'PK'], kg: [0.1, 1.2] },
  footwear: { nouns: ['Trail Runner', 'Leather Boot', 'Canvas Sneaker', 'Slide Sandal', 'Hiking Boot', 'Court Shoe', 'Wellington Boot', 'Loafer'], units: ['EA'], kg: [0.4, 1.8] },
  electronics: { nouns: ['Wireless Earbuds', 'USB-C Charger', 'Smart Plug', 'Bluetooth Speaker', 'Webcam', 'Power Bank', 'HDMI Cable', 'Mechanical Keyboard'], units: ['EA', 'BX'], kg: [0.05, 2.5] },
  'home-kitchen': { nouns: ['Chef Knife', 'Cast Iron Skillet', 'French Press', 'Mixing Bowl Set', 'Bath Towel', 'Table Lamp', 'Storage Jar', 'Cutting Board'], units: ['EA', 'BX'], kg: [0.2, 4] },
  garden: { nouns: ['Pruning Shears', 'Garden Hose', 'Planter', 'Watering Can', 'Seed Tray', 'Garden Gloves', 'Hedge Trimmer', 'Compost Bin'], units: ['EA', 'PK'], kg: [0.1, 9] },
  tools: { nouns: ['Cordless Drill', 'Socket Set', 'Claw Hammer', 'Spirit Level', 'Utility Knife', 'Tape Measure', 'Screwdriver Set', 'Work Light'], units: ['EA', 'BX'], kg: [0.2, 3.5] },
  toys: { nouns: ['Building Blocks', 'Puzzle', 'Plush Bear', 'Model Car', 'Board Game', 'Kite', 'Marble Run', 'Wooden Train'], units: ['EA', 'BX'], kg: [0.1, 2] },
  'sports-outdoors': { nouns: ['Trail Backpack', 'Yoga Mat', 'Water Bottle', 'Camping Stove', 'Trekking Poles', 'Sleeping Bag', 'Headlamp', 'Dome Tent'], units: ['EA'], kg: [0.1, 5] },
  office: { nouns: ['Notebook', 'Gel Pens', 'Desk Organizer', 'Stapler', 'Copy Paper', 'Monitor Stand', 'Sticky Notes', 'Document Tray'], units: ['EA', 'PK', 'BX'], kg: [0.05, 2.5] },
  beauty: { nouns: ['Face Cream', 'Shampoo', 'Lip Balm', 'Body Lotion', 'Hair Brush', 'Sunscreen', 'Hand Soap', 'Beard Oil'], units: ['EA', 'PK'], kg: [0.05, 0.8] },
  grocery: { nouns: ['Espresso Beans', 'Olive Oil', 'Green Tea', 'Oat Biscuits', 'Dark Chocolate', 'Basmati Rice', 'Maple Syrup', 'Sea Salt'], units: ['EA', 'CS'], kg: [0.1, 6] },
  automotive: { nouns: ['Wiper Blade', 'Motor Oil', 'Tyre Inflator', 'Car Wax', 'Jump Starter', 'Floor Mats', 'Phone Mount', 'Air Filter'], units: ['EA', 'CS'], kg: [0.1, 5] },
};

const ADJECTIVES = [
  'Rugged', 'Classic', 'Compact', 'Essential', 'Premium', 'Everyday', 'Pro', 'Urban', 'Alpine', 'Coastal',
  'Nordic', 'Heritage', 'Lightweight', 'Deluxe', 'Eco', 'Studio', 'Summit', 'Harbor', 'Metro', 'Field',
];

const COLOURS = [
  'Slate Grey', 'Navy', 'Forest Green', 'Sand', 'Charcoal', 'Burgundy', 'Sky Blue', 'Olive', 'Black', 'White',
  'Terracotta', 'Mustard',
];

/** Items are created during the two years before the seed epoch (their timestamps never depend on "now"). */
const CREATED_SPAN_S = 730 * 86_400;
const DISCONTINUED_SHARE = 0.04;

/** Most descriptors cached per seed, and most seeds remembered: bounds the memory shared by all workspaces. */
const DESCRIPTORS_PER_SEED = 10_000;
const SEEDS_REMEMBERED = 4;

export function skuOf(index: number): string {
  return `SKU-${index + 1}`;
}

/** The catalogue of one seed. `index` is zero-based: SKU-1 has index 0. */
export class Catalogue {
  private readonly cache = new Map<number, ItemDescriptor>();

  constructor(readonly seed: number) {}

  /** The descriptor of SKU-(index+1), cached. */
  item(index: number): ItemDescriptor {
    let item = this.cache.get(index);
    if (item === undefined) {
      item = this.build(index);
      // first in, first out: a full scan (listing every item) must not grow the cache past its bound
      if (this.cache.size >= DESCRIPTORS_PER_SEED) this.cache.delete(this.cache.keys().next().value as number);
      this.cache.set(index, item);
    }
    return item;
  }

  /** The descriptor without caching it: for exports, which visit every SKU once and would only churn the cache. */
  peek(index: number): ItemDescriptor {
    return this.cache.get(index) ?? this.build(index);
  }

  /** The category alone, cheaper than a descriptor: for filtering long scans. */
  category(index: number): Category {
    return CATEGORIES[hashKey(this.seed, 'category', index) % CATEGORIES.length];
  }

  private build(index: number): ItemDescriptor {
    const next = seededRandom(this.seed, 'item', index);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
    const category = this.category(index);
    const product = PRODUCTS[category];
    const noun = pick(product.nouns);
    const colour = pick(COLOURS);
    const unitOfMeasure = pick(product.units);
    const [minKg, maxKg] = product.kg;
    return {
      sku: skuOf(index),
      name: `${pick(ADJECTIVES)} ${noun} (${colour})`,
      description: `${noun} in ${colour.toLowerCase()}, sold per ${unitOfMeasure}.`,
      category,
      unitOfMeasure,
      weightKg: Math.round((minKg + next() * (maxKg - minKg)) * 100) / 100,
      reorderPoint: randomInt(next, 5, 100),
      barcode: ean13(next),
      status: next() < DISCONTINUED_SHARE ? 'discontinued' : 'active',
      createdAt: new Date(SEED_EPOCH_MS - CREATED_SPAN_S * 1000 + Math.floor(next() * CREATED_SPAN_S) * 1000).toISOString(),
    };
  }
}

/** A plausible EAN-13 (GS1 prefix 87, the Netherlands) with a correct check digit. */
function ean13(next: () => number): string {
  let digits = '87';
  for (let i = 0; i < 10; i++) digits += Math.floor(next() * 10);
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(digits[i]) * (i % 2 === 0 ? 1 : 3);
  return digits + ((10 - (sum % 10)) % 10);
}

const catalogues = new Map<number, Catalogue>();

/** The shared catalogue for a seed (the oldest seed is forgotten when too many are in use). */
export function catalogueFor(seed: number): Catalogue {
  let catalogue = catalogues.get(seed);
  if (catalogue === undefined) {
    if (catalogues.size >= SEEDS_REMEMBERED) catalogues.delete(catalogues.keys().next().value as number);
    catalogue = new Catalogue(seed);
    catalogues.set(seed, catalogue);
  }
  return catalogue;
}
