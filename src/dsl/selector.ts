/**
 * Selectors: first-class values that pick the sites of a backbone a transform applies to
 * (penzai-style selections). A selector is plain JSON; `resolveSites` interprets it.
 */

import type { Role } from "../models/vitParams.js";

export { roles, type Role } from "../models/vitParams.js";

export type Selector =
  | { readonly _tag: "All" }
  | { readonly _tag: "Glob"; readonly pattern: string }
  | { readonly _tag: "Regex"; readonly pattern: string }
  | { readonly _tag: "Role"; readonly role: Role }
  /** Blocks `from ≤ i < to`, Python-slice style: negative numbers count from the end, `to: null` is the end. */
  | { readonly _tag: "Blocks"; readonly from: number; readonly to: number | null }
  | { readonly _tag: "And"; readonly of: readonly Selector[] }
  | { readonly _tag: "Or"; readonly of: readonly Selector[] }
  | { readonly _tag: "Not"; readonly of: Selector }
  /** A count assertion in the chain: resolution fails unless exactly `count` sites match. */
  | { readonly _tag: "Expect"; readonly count: number; readonly of: Selector };

export const all: Selector = { _tag: "All" };
export const glob = (pattern: string): Selector => ({ _tag: "Glob", pattern });
export const regex = (pattern: string): Selector => ({ _tag: "Regex", pattern });
export const role = (...rs: readonly [Role, ...Role[]]): Selector =>
  rs.length === 1 ? { _tag: "Role", role: rs[0] } : or(...rs.map((r): Selector => ({ _tag: "Role", role: r })));
export const blocks = (from: number, to: number | null = null): Selector => ({ _tag: "Blocks", from, to });
export const and = (...of: readonly Selector[]): Selector => ({ _tag: "And", of });
export const or = (...of: readonly Selector[]): Selector => ({ _tag: "Or", of });
export const not = (of: Selector): Selector => ({ _tag: "Not", of });
export const expectCount = (count: number, of: Selector): Selector => ({ _tag: "Expect", count, of });

/** A readable one-line rendering, used by `describe` and error messages. */
export const showSelector = (s: Selector): string => {
  switch (s._tag) {
    case "All":
      return "all";
    case "Glob":
      return `glob(${JSON.stringify(s.pattern)})`;
    case "Regex":
      return `regex(/${s.pattern}/)`;
    case "Role":
      return s.role;
    case "Blocks":
      return `blocks[${s.from}:${s.to ?? ""}]`;
    case "And":
      return s.of.length === 0 ? "all" : s.of.map(showSelector).join(" ∧ ");
    case "Or":
      return s.of.length === 0 ? "none" : `(${s.of.map(showSelector).join(" ∨ ")})`;
    case "Not":
      return `¬${showSelector(s.of)}`;
    case "Expect":
      return `${showSelector(s.of)} (expect ${s.count})`;
  }
};
