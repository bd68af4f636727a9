// Drives `posbon app` through the switch, once per scenario (a language at a width), with a
// vault and a real watcher: unlock, enrol with the watcher, check in, set the plan, seal a record for a
// lawyer after its review, set up a phone with the app's link on the watcher's real phone
// page (which then checks in) and remove it, make a recovery key, download a backup, delete
// the record and restore it from the backup, lock. Each scenario has its own profile, which
// the Rust side then searches for what was typed.
// Usage: node app_switch.mjs SCENARIOS_JSON SCREENSHOT_DIR -> one JSON array of what it saw.
// SCENARIOS_JSON: [{ "url", "lang", "width", "profile", "passphrase", "watcher", "code", "record",
//                    "bundle_name", "pin", "duress_pin", "backup_passphrase", "backup_path" }]
import { eachScenario } from "./scenarios.mjs";

await eachScenario({ timeout: 20000 }, async (page, s, got, { context, shot, fits, said }) => {
  await page.goto(s.url);
  await page.fill("#passphrase", s.passphrase);
  await page.click("#unlock");
  await page.waitForSelector("#count");

  // Enrol with the watcher (the operator's address and one-time code), then check in and
  // set the plan.
  await page.click("#nav-switch");
  // A .onion watcher without Tor: refused, and its 62-character address must not push the
  // page sideways on a phone.
  await page.fill("#enrol-url", `http://${"a".repeat(56)}.onion`);
  await page.fill("#enrol-code", "0000");
  await page.click("#enrol");
  got.onion_refused = await said(page);
  got.onion_fits = await fits(page);
  await page.fill("#enrol-url", s.watcher);
  await page.fill("#enrol-code", s.code);
  await page.click("#enrol");
  got.enrolled = await said(page);
  got.enrol_fits = await fits(page);
  await shot(page, "enrolled");
  await page.click("#checkin");
  got.checked_in = await said(page);
  got.switch_text = (await page.textContent("#watchers")).trim();
  await shot(page, "checked-in");
  await page.click("#edit-plan");
  await page.fill("#every", "2d");
  await page.fill("#grace", "3h");
  await page.click("#set-plan");
  got.plan_set = await said(page);

  // Seal the record for the lawyer: the review first, then the seal.
  await page.click("#nav-seal");
  await page.check(`input[name=record]`);
  await page.check(`input[name=to]`);
  await page.fill("#name", s.bundle_name);
  await page.click("#prepare");
  await page.waitForSelector("#review-heading");
  got.review_heading = (await page.textContent("#review-heading")).trim();
  got.review_items = (await page.textContent("#review-items")).trim();
  got.review_fits = await fits(page);
  await shot(page, "seal-review");
  await page.click("#seal");
  got.sealed = await said(page);
  got.sealed_list = (await page.textContent("#sealed")).trim();

  // A phone: the app's link opens the watcher's own page, which sets the phone up and
  // checks in; then the app lists the phone and removes it after a question.
  await page.click("#nav-phones");
  await page.click("#phone-invite");
  await page.waitForSelector("code.link");
  const link = (await page.textContent("code.link")).trim();
  got.link_has_qr = (await page.locator(".qr svg").count()) > 0;
  got.phones_fit = await fits(page);
  await shot(page, "phone-link");
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });
  await phone.goto(link);
  await phone.click(`a[data-lang=${s.lang}]`);
  await phone.waitForSelector("#enrol:not([hidden])");
  got.phone_title = (await phone.textContent("h1")).trim();
  await phone.fill("#p1", s.pin);
  await phone.fill("#p2", s.pin);
  await phone.fill("#p3", s.duress_pin);
  await phone.fill("#p4", s.duress_pin);
  await phone.click("#enrol-button");
  await phone.waitForSelector("#msg.ok");
  got.phone_enrolled = (await phone.textContent("#msg p")).trim();
  await phone.fill("#pin", s.pin);
  await phone.click("#checkin-button");
  await phone.waitForFunction((before) =>
    document.querySelector("#msg p").textContent !== before, got.phone_enrolled);
  got.phone_checked_in = (await phone.textContent("#msg p")).trim();
  await shot(phone, "phone-page");
  await phone.close();
  await page.click("#nav-phones");
  await page.waitForSelector("a[id^=remove-]");
  got.phones_listed = await page.locator("a[id^=remove-]").count();
  await page.click("a[id^=remove-]");
  await page.click("#confirm");
  got.phone_removed = await said(page);
  got.phones_left = await page.locator("a[id^=remove-]").count();

  // A recovery key, shown once.
  await page.click("#nav-keys");
  await page.click("#make-recovery");
  await page.waitForSelector("#recovery-key");
  got.recovery_key = (await page.textContent("#recovery-key")).trim();

  // A backup, downloaded; the record deleted; the backup restored brings it back.
  await page.click("#nav-backup");
  await page.fill("#new", s.backup_passphrase);
  await page.fill("#again", s.backup_passphrase);
  await page.click("#prepare-backup");
  await page.waitForSelector("#download-backup");
  const [download] = await Promise.all([page.waitForEvent("download"),
                                        page.click("#download-backup")]);
  await download.saveAs(s.backup_path);
  await page.click("#nav-records");
  await page.click(`#records a:has-text("${s.record}")`);
  await page.click("#delete");
  await page.click("#confirm");
  got.deleted = await said(page);
  got.listed_after_delete = await page.locator(`#records a:has-text("${s.record}")`).count();
  await page.click("#nav-backup");
  await page.fill("#restore-passphrase", s.backup_passphrase);
  await page.setInputFiles("#restore-file", s.backup_path);
  await page.click("#restore-backup");
  got.restored = await said(page);
  await page.click("#nav-records");
  got.listed_after_restore = await page.locator(`#records a:has-text("${s.record}")`).count();

  await page.click("#lock");
  await page.waitForSelector("#passphrase");
});
