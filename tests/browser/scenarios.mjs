// What every app scenario script shares: one persistent Chromium profile per scenario (a
// language at a width), screenshots for the guides, the sideways-scrolling check, and one
// JSON array of what was seen, printed for the Rust side. A failure inside a scenario is
// recorded in it (`failure`), so the Rust side fails with the script's own words.
// Usage from a script: `await eachScenario({ timeout }, async (page, s, got, see) => ...)`
// with the command line `node SCRIPT.mjs SCENARIOS_JSON SCREENSHOT_DIR`.
import { chromium } from "playwright-core";

export async function eachScenario({ timeout }, drive) {
  const [scenariosJson, shots] = process.argv.slice(2);
  const seen = [];
  for (const s of JSON.parse(scenariosJson)) {
    const context = await chromium.launchPersistentContext(s.profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
           // A name an attacker controls that resolves to this computer (DNS rebinding).
           "--host-resolver-rules=MAP rebind.example 127.0.0.1"],
      viewport: { width: s.width, height: s.width < 500 ? 740 : 900 },
      acceptDownloads: true,
    });
    context.setDefaultTimeout(timeout);
    const got = { lang: s.lang, width: s.width };
    const see = {
      context,
      shot: async (page, name) => page.screenshot({
        path: `${shots}/app-${s.lang}-${s.width}-${name}.png`, fullPage: true }),
      // Measured once the page and its stylesheet are in: under load a page's DOM can be
      // there (and measured) before its style is, and an unstyled long link overflows.
      fits: async (page) => {
        await page.waitForLoadState("load");
        return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      },
      // What the app said after a form: its notice, or its error (named so, to fail plainly).
      said: async (page) => {
        await page.waitForSelector("#notice, #error");
        const notice = await page.$("#notice");
        return notice ? (await notice.textContent()).trim()
                      : "ERROR: " + (await page.textContent("#error")).trim();
      },
    };
    try {
      const page = context.pages()[0] || await context.newPage();
      await drive(page, s, got, see);
    } catch (e) {
      got.failure = String(e.stack || e);
    } finally {
      await context.close();
    }
    seen.push(got);
  }
  console.log(JSON.stringify(seen));
}
