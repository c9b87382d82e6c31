/**
 * Escaping for report.html. Everything on the page that came from the server (client names, operations,
 * explanations, values) is text written by the traffic or derived from it, so it is escaped for element content
 * and attribute values alike.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: unknown): string {
  // control characters are not allowed in HTML text either; shown as \uXXXX so nothing vanishes silently
  return String(text)
    .replace(/[&<>"']/g, (c) => ENTITIES[c])
    .replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
