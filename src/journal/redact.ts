/**
 * Redaction of secrets before anything leaves the journal. Applied when an entry is read (the journal stores
 * what was sent, to keep the request path cheap), so every reader gets the same redacted view.
 */

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'x-auth-token',
  'x-csrf-token',
  'x-understudy-admin-token',
]);

export const REDACTED = '[redacted]';

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || lower.includes('secret') || lower.includes('password');
}

/** Keeps the auth scheme ("Bearer", "Basic") so the report card can tell which flow was used. */
function redactHeaderValue(name: string, value: string): string {
  if (name === 'authorization' || name === 'proxy-authorization') {
    const space = value.indexOf(' ');
    return space > 0 ? `${value.slice(0, space)} ${REDACTED}` : REDACTED;
  }
  return REDACTED;
}

/** Headers as a name, value, name, value ... list (node's rawHeaders) to a redacted object; repeats join with ", ". */
export function redactHeaderPairs(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = isSecretHeader(name) ? redactHeaderValue(name, raw[i + 1]) : raw[i + 1];
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/** OAuth's authorization `code` and PKCE `code_verifier` are credentials too (a `code` inside a longer name is not) */
const SECRET_FIELD = /(password|secret|token|api[_-]?key|client_assertion|assertion|cvc|cvv|code_verifier|^code$)/i;
/** 13-19 digit runs, optionally grouped by spaces or dashes: card numbers (PAN). */
const CARD_NUMBER = /\b(?:\d[ -]?){12,18}\d\b/g;

/**
 * Redacts secret-looking fields in JSON or form bodies and masks card numbers anywhere (keeping the last four
 * digits, as payment dashboards do). Works on text so it also covers XML and bodies that failed to parse.
 */
export function redactBodyText(text: string): string {
  let out = text.replace(CARD_NUMBER, (pan) => {
    const digits = pan.replace(/[ -]/g, '');
    return digits.length >= 13 ? `****${digits.slice(-4)}` : pan;
  });
  // JSON: "password": "..."  |  form: password=...  |  XML: <wsse:Password>...</wsse:Password>
  out = out.replace(/"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g, (whole, key: string, sep: string) =>
    SECRET_FIELD.test(key) ? `"${key}"${sep}"${REDACTED}"` : whole,
  );
  out = out.replace(/(^|&)([^=&]{1,64})=([^&]*)/g, (whole, lead: string, key: string) =>
    SECRET_FIELD.test(decodeURIComponentSafe(key)) ? `${lead}${key}=${REDACTED}` : whole,
  );
  out = out.replace(/<((?:[\w-]+:)?(\w*(?:Password|Secret|Token)\w*))(\s[^>]*)?>([^<]*)<\/\1>/gi, (_w, tag: string, _l, attrs = '') =>
    `<${tag}${attrs}>${REDACTED}</${tag}>`,
  );
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * digits of what may be a card number: 13 or more (card numbers have 13-19; a longer run is a mistyped one, and
 * no less sensitive), single spaces or dashes allowed between groups
 */
const CARD_DIGITS = /(?<![\d])(?:\d[ -]?){12,}\d(?![\d])/g;
/** a CVC or CVV as JSON (`"cvc": "123"`), form (`card[cvc]=123`) or XML (`<cvc>123</cvc>`) writes it */
const CARD_CODE = /(cv[cv]2?["'\]]?\s*(?:[:=]|>)\s*["']?)(\d{3,4})/gi;

/**
 * Masks card data in a request body before the journal keeps it (RestSystemDefinition.masksCardData): every
 * digit of a card number but the last four becomes `*`, and a CVC becomes `***`. Length-preserving, and done on
 * the bytes (latin1), so the kept body has the size the request had and anything that was not card data is kept
 * byte for byte, whatever its encoding.
 */
export function maskCardData(body: Buffer): Buffer {
  const text = body.toString('latin1');
  let masked = text.replace(CARD_DIGITS, (run) => {
    let keep = 4;
    const chars = run.split('');
    for (let i = chars.length - 1; i >= 0; i--) {
      if (chars[i] < '0' || chars[i] > '9') continue;
      if (keep > 0) keep--;
      else chars[i] = '*';
    }
    return chars.join('');
  });
  masked = masked.replace(CARD_CODE, (_whole, lead: string, code: string) => lead + '*'.repeat(code.length));
  return masked === text ? body : Buffer.from(masked, 'latin1');
}
