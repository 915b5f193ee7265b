import { MethodCodec, decodeMethod } from "../src/dsl/codecs.js";
import type { Law } from "./law.js";
import { holds } from "./violation.js";

/** JSON with object keys sorted: equal data, equal text (prototypes and key order aside). */
const canonical = (x: unknown): string =>
  JSON.stringify(x, (_, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

export const codecRoundTrip: Law = {
  name: "codec round trip",
  statement: "decode(JSON(encode(m))) = m",
  check: async (method) => {
    const decoded = decodeMethod(JSON.parse(JSON.stringify(MethodCodec.encode(method))));
    if (decoded._tag === "Left") holds(false, () => `a valid method failed to decode: ${decoded.left.join("; ")}`);
    else holds(canonical(decoded.right) === canonical(method), () => `decode(encode(m)) = ${canonical(decoded.right)}, m = ${canonical(method)}`);
  },
};
