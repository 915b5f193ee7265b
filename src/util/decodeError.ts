import type * as t from "io-ts";

/** `method.targets[2].transform.rank` from an io-ts context. */
export const formatPath = (context: t.Context): string => {
  let path = "";
  for (const entry of context.slice(1)) {
    if (entry.key === "") continue;
    path += /^\d+$/.test(entry.key) ? `[${entry.key}]` : path === "" ? entry.key : `.${entry.key}`;
  }
  return path === "" ? "the top level" : path;
};

export const showValue = (u: unknown): string => {
  if (u === undefined) return "nothing";
  const json = JSON.stringify(u);
  if (json === undefined) return String(u);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
};

/** One line per error: `expected positive integer at method.targets[2].transform.rank, got "8"`. */
export const formatErrors = (errors: t.Errors): string[] => {
  const lines = errors.map((e) => {
    if (e.message !== undefined) return e.message;
    const last = e.context[e.context.length - 1];
    return `expected ${last?.type.name ?? "a value"} at ${formatPath(e.context)}, got ${showValue(e.value)}`;
  });
  return [...new Set(lines)];
};
