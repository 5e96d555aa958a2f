// Parses and validates an AsyncAPI document with @asyncapi/parser (its schema and its
// rules); fails on any error, prints warnings.
//
//   node tests/asyncapi/validate.mjs asyncapi.yaml
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const [file] = process.argv.slice(2);
if (!file) {
  console.error("usage: validate.mjs DOCUMENT");
  process.exit(2);
}
const { document, diagnostics } = await new Parser().parse(readFileSync(file, "utf8"));
const ERROR = 0;
for (const { severity, message, path } of diagnostics) {
  console.log(`${severity === ERROR ? "error" : "warning"}: ${message} at ${path.join(".") || "/"}`);
}
if (!document || diagnostics.some((d) => d.severity === ERROR)) {
  console.error(`${file} is not a valid AsyncAPI document`);
  process.exit(1);
}
console.log(`${file}: AsyncAPI ${document.version()}, ` +
  `${document.channels().length} channel, ${document.operations().length} operations, ` +
  `${document.components().messages().length} messages: valid`);
