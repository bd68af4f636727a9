// Drives `posbon app` like a journalist would, once per scenario (a language at a width):
// open the launch link, unlock, add a source with a marker in it, attach a file, download it
// back, search for it, lock, press Back. Each scenario has its own browser profile, which
// the Rust side then searches for the marker.
// Usage: node app.mjs SCENARIOS_JSON SCREENSHOT_DIR -> prints one JSON array of what it saw.
// SCENARIOS_JSON: [{ "url", "lang", "width", "profile", "marker", "passphrase" }, ...]
import { eachScenario } from "./scenarios.mjs";

await eachScenario({ timeout: 15000 }, async (page, s, got, { context, shot, fits }) => {
  await page.goto(s.url);
  got.url_after_launch = page.url();
  got.html_lang = await page.getAttribute("html", "lang");
  await shot(page, "unlock");
  got.unlock_fits = await fits(page);
  await page.fill("#passphrase", "not the passphrase");
  await page.click("#unlock");
  await page.waitForSelector("#error");
  got.wrong = (await page.textContent("#error")).trim();
  await page.fill("#passphrase", s.passphrase);
  await page.click("#unlock");
  await page.waitForSelector("#count");
  got.empty = (await page.textContent("#count")).trim();
  await shot(page, "records");

  await page.click("#new-source");
  await page.fill("#title", `Source ${s.marker}`);
  await page.fill("#field-contact", `reach ${s.marker}`);
  await page.fill("#tags", "ministry");
  await page.fill("#body", `Met ${s.marker} at the bazaar.\nSecond line.`);
  await shot(page, "edit");
  got.edit_fits = await fits(page);
  await page.click("#save");
  await page.waitForSelector("#body");
  got.title = (await page.textContent("#title")).trim();
  got.body = await page.textContent("#body");

  const file = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  Buffer.from(`FILE ${s.marker}`).copy(file, 1024 * 1024);
  await page.setInputFiles("#file", { name: "scan.pdf", mimeType: "application/pdf", buffer: file });
  await page.click("#attach");
  await page.waitForSelector("a.file");
  got.file_listed = (await page.textContent("a.file")).trim();
  got.file_size = (await page.textContent(".size")).trim();
  await shot(page, "record");
  got.record_fits = await fits(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("a.file")]);
  const path = await download.path();
  const fs = await import("node:fs");
  got.download_same = Buffer.compare(fs.readFileSync(path), file) === 0;
  got.download_name = download.suggestedFilename();
  fs.unlinkSync(path);

  await page.click("#nav-records");
  await page.fill("#words", s.marker);
  await page.click("#search");
  await page.waitForSelector("#count");
  got.found = await page.locator("#records li").count();
  got.search_url = page.url();

  await page.click("#nav-switch");
  await page.waitForSelector("#checkin");
  got.switch_error = (await page.textContent("#error")).trim();
  await shot(page, "switch");

  // What happened, the phone, sealing, keys and backups: each page in this language, at
  // this width, without sideways scrolling.
  await page.click("#show-history");
  await page.waitForSelector("#retract");
  got.history_title = (await page.textContent("h1")).trim();
  got.history_fits = await fits(page);
  await page.click("#nav-phones");
  await page.waitForSelector("#phone-invite");
  got.phones_title = (await page.textContent("h1")).trim();
  got.phones_fits = await fits(page);
  await shot(page, "phones");
  await page.click("#nav-seal");
  await page.waitForSelector("#prepare");
  got.seal_fits = await fits(page);
  await page.click("#nav-keys");
  await page.waitForSelector("#make-recovery");
  got.keys_fits = await fits(page);
  await page.click("#nav-backup");
  await page.waitForSelector("#restore-backup");
  got.backup_fits = await fits(page);

  await page.click("#nav-contacts");
  await page.fill("#name", "Dilnoza");
  await page.selectOption("#lang", "ru");
  await page.fill("#tiers", "2");
  await page.fill("#email", "dilnoza@example.org");
  await page.click("#save-contact");
  await page.waitForSelector("#notice");
  got.contact_saved = (await page.textContent("#notice")).trim();
  await shot(page, "contacts");
  got.contacts_fit = await fits(page);

  // Strangers, in this very browser while the session is open. A page of another origin
  // whose form posts to the app by itself (the cookie is SameSite=Strict, the Origin is
  // checked, the form token is missing): refused, and nothing changes.
  const app = new URL(page.url()).origin;
  const http = await import("node:http");
  const evil = http.createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<form id="f" method="post" action="${app}/contacts/instructions">` +
      // Nothing of the journalist's here: the profile is searched for the marker afterwards.
      `<input name="instructions" value="EVIL INSTRUCTIONS"></form>` +
      `<script>document.getElementById("f").submit()</script>`);
  });
  await new Promise((done) => evil.listen(0, "127.0.0.1", done));
  const stranger = await context.newPage();
  const posted = stranger.waitForResponse((r) => r.url().startsWith(app));
  await stranger.goto(`http://127.0.0.1:${evil.address().port}/`);
  got.cross_site_status = (await posted).status();
  evil.close();
  // DNS rebinding: a name the attacker controls, resolving to this computer
  // (--host-resolver-rules in scenarios.mjs), asked for a record's page.
  const rebound = await stranger.goto(app.replace("127.0.0.1", "rebind.example") + "/");
  got.rebound_status = rebound.status();
  got.rebound_shows_marker = (await stranger.content()).includes(s.marker);
  await stranger.close();
  await page.goto(`${app}/contacts`);
  got.instructions_after_attack = await page.inputValue("#instructions");

  await page.goto(new URL("/plan", page.url()).href);
  await page.click("#set-plan");
  await page.waitForSelector("#error");
  got.plan_error = (await page.textContent("#error")).trim();

  await page.click("#nav-lawyer");
  await page.fill("#watcher", "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d");
  await page.fill("#alert", "POSBON ALERT v1 something forged");
  await page.click("#verify");
  await page.waitForSelector("#verdict");
  got.verdict = (await page.textContent("#verdict")).trim();
  await shot(page, "lawyer");
  got.lawyer_fits = await fits(page);

  await page.click("#lock");
  await page.waitForSelector("#passphrase");
  got.locked = (await page.textContent("#notice")).trim();
  // Added while locked: sealed at once, readable after the next unlock.
  await page.click("#nav-capture");
  await page.fill("#title", `Checkpoint ${s.marker}`);
  await page.fill("#body", `seen ${s.marker}`);
  await page.click("#capture");
  await page.waitForSelector("#notice");
  got.captured = (await page.textContent("#notice")).trim();
  await page.click("#nav-unlock");
  // A coercer presses Back: the pages are not kept, so the browser asks the app again,
  // which shows the unlock form.
  await page.goBack();
  await page.waitForLoadState();
  got.back_shows_marker = (await page.content()).includes(s.marker);
  // A browser without the session (its cookie gone) gets nothing, not even the unlock form.
  await context.clearCookies();
  const bare = await page.goto(`${app}/`);
  got.no_session_status = bare.status();
  got.no_session_shows_form = (await page.content()).includes("passphrase");
});
