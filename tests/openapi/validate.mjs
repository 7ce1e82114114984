// Validates an OpenAPI document against the official OpenAPI 3.1 JSON
// schema, references resolved. Usage: node validate.mjs FILE
import { Validator } from "@seriousme/openapi-schema-validator";
import { readFileSync } from "node:fs";

const validator = new Validator();
const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const res = await validator.validate(doc);
if (!res.valid) {
	console.error(JSON.stringify(res.errors, null, 2));
	process.exit(1);
}
if (validator.version !== "3.1") {
	console.error(`expected an OpenAPI 3.1 document, got ${validator.version}`);
	process.exit(1);
}
// every $ref must resolve
try {
	validator.resolveRefs();
} catch (e) {
	console.error(`unresolved reference: ${e.message}`);
	process.exit(1);
}
console.log(`valid OpenAPI ${validator.version} document`);
