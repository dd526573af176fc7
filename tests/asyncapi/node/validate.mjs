// Validates AsyncAPI documents with the official parser.
// Usage: node validate.mjs FILE...   Prints one JSON object: {FILE: {version, diagnostics}}.
import { readFile } from 'node:fs/promises';
import { Parser } from '@asyncapi/parser';

const SEVERITY = ['error', 'warning', 'information', 'hint'];
const parser = new Parser();
const results = {};
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(await readFile(file, 'utf8'));
  results[file] = {
    version: document ? document.version() : null,
    diagnostics: diagnostics.map((d) => ({
      severity: SEVERITY[d.severity] ?? String(d.severity),
      code: String(d.code),
      message: d.message,
      path: d.path.join('/'),
    })),
  };
}
process.stdout.write(JSON.stringify(results));
