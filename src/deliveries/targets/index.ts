/** The target a subscription delivers through: a signed webhook, or Platform Events published into an org. */
import { VERSION } from '../../version.js';
import type { Subscription } from '../delivery-book.js';
import { createPlatformEventTarget } from './salesforce-platform-event.js';
import type { DeliveryTarget } from './target.js';
import { createWebhookTarget } from './webhook.js';

const USER_AGENT = `understudy/${VERSION} (+webhooks)`;

export function createTarget(subscription: Subscription, defaultConcurrency: number): DeliveryTarget {
  const concurrency = subscription.concurrency ?? defaultConcurrency;
  if (subscription.target === 'salesforce-platform-event' && subscription.salesforce) {
    return createPlatformEventTarget(subscription.salesforce, { concurrency, userAgent: USER_AGENT });
  }
  return createWebhookTarget(subscription.url, { concurrency, userAgent: USER_AGENT });
}
