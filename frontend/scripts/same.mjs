// Fails when the committed generated API types differ from a fresh generation: run `npm run gen`
// and commit src/api/schema.d.ts after changing api/openapi.yaml.
import { readFileSync, rmSync } from "node:fs";

const [committed, fresh] = process.argv.slice(2);
const a = readFileSync(committed, "utf8");
const b = readFileSync(fresh, "utf8");
rmSync(fresh);
if (a !== b) {
  console.error(`${committed} is stale: api/openapi.yaml changed. Run \`npm run gen\` in frontend/ and commit it.`);
  process.exit(1);
}
console.log(`${committed} matches api/openapi.yaml`);
