/** Text from users (method, task, sweep and unit names, errors) as a page or figure shows it: literally, never as markup. */

const entities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for HTML and SVG, in element content and in quoted attribute values alike. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => entities[c]!);

/**
 * Text for one line of Markdown (a heading, a table cell, a caption, a list item): HTML's
 * specials as entities (Markdown passes raw HTML through), Markdown's own as backslash escapes
 * (links, emphasis, code, table cells), and line breaks as spaces (they would end the line).
 */
export const escapeMarkdown = (s: string): string =>
  s
    .replace(/[\p{Cc}\u2028\u2029]+/gu, " ")
    .replace(/[&<>]/g, (c) => entities[c]!)
    .replace(/[\\`*_[\]|~]/g, "\\$&");
