// Opens an HTML file in Debian's Chromium and lets axe-core judge it
// against WCAG 2.1 AA. Usage: node axe.mjs FILE.html
// Prints each violation (rule, impact, what it says, where); exits 1 if any.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const file = process.argv[2];
if (!file) {
	console.error("usage: node axe.mjs FILE.html");
	process.exit(2);
}
const browser = await chromium.launch({
	executablePath: "/usr/lib/chromium/chromium",
	args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
	       "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
	const context = await browser.newContext();
	const page = await context.newPage();
	await page.goto(pathToFileURL(resolve(file)).href);
	const result = await new AxeBuilder({ page })
		.withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
		.analyze();
	for (const v of result.violations)
		console.log(`${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
	console.log(`axe: ${result.violations.length} violations, ${result.passes.length} rules passed`);
	process.exitCode = result.violations.length ? 1 : 0;
} finally {
	await browser.close();
}
