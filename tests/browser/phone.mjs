// Drives the phone page like a journalist would: open the enrolment link (one link for two
// watchers), choose the PINs, check in with the PIN, then with the duress PIN, then wrong PINs
// until it must wait, then read the page in Tajik; then the second watcher is stopped
// (SIGTERM to DOWN_PID) and the journalist checks in again. Before that, the spare link with a
// watcher added that does not answer (DEAD_URL) sets up another phone, and a watcher enrolled
// with later is added to the first page by its own link (ADD_LINK).
// Usage: node phone.mjs ENROL_LINK SCREENSHOT_DIR DOWN_PID SPARE_LINK DEAD_URL ADD_LINK
//   -> prints one JSON object of what it saw.
import { chromium } from "playwright-core";

const [link, shots, downPid, spare, dead, add] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = {};
// The page names its watchers from script once loaded: read the names once they are there.
const namesOf = async (p) => {
  await p.waitForFunction(() => (document.querySelector("#names")?.textContent || "").length > 0);
  return p.textContent("#names");
};
try {
  const page = await browser.newPage({ locale: "en-US", viewport: { width: 360, height: 640 } });
  await page.goto(link);
  seen.names_before = await namesOf(page);
  // The duress PIN is typed twice: a slip in it is caught here, not found under coercion.
  await page.fill("#p1", "285071");
  await page.fill("#p2", "285071");
  await page.fill("#p3", "930462");
  await page.fill("#p4", "930463");
  await page.click("#enrol-button");
  await page.waitForSelector("#msg.err");
  seen.duress_typo = await page.textContent("#msg p");
  await page.fill("#p1", "285071");
  await page.fill("#p2", "285071");
  await page.fill("#p3", "930462");
  await page.fill("#p4", "930462");
  await page.click("#enrol-button");
  await page.waitForSelector("#msg.ok");
  seen.enrolled = await page.textContent("#msg p");
  seen.enrolled_lines = await page.$$eval("#msg li", (l) => l.map((e) => e.textContent));
  seen.names = await namesOf(page);
  seen.url_after_enrol = page.url();
  // What the page keeps: keys it cannot read back, and no secret in localStorage.
  seen.stored = await page.evaluate(() => new Promise((ok) => {
    const q = indexedDB.open("posbon", 1);
    q.onsuccess = () => {
      const get = q.result.transaction("phone").objectStore("phone").get("device");
      get.onsuccess = () => ok({
        watchers: get.result.watchers.map((w) => ({
          key_extractable: w.key.extractable,
          key_type: w.key.algorithm.name + " " + w.key.algorithm.namedCurve,
          pin_key_extractable: w.pinKey.extractable,
          url: w.url,
        })),
        local_storage: Object.keys(localStorage).sort().join(","),
      });
    };
  }));

  // Clears the message first, so each answer is read fresh.
  const checkIn = async (pin) => {
    await page.evaluate(() => { document.querySelector("#msg").textContent = ""; });
    await page.fill("#pin", pin);
    await page.click("#checkin-button");
    await page.waitForFunction(() => document.querySelector("#msg").textContent !== "");
    return page.textContent("#msg p");
  };
  const lines = () => page.$$eval("#msg li", (l) => l.map((e) => e.textContent));
  seen.real = await checkIn("285071");
  seen.real_lines = await lines();
  // The whole page as shown, but for the script and the empty style attributes Chromium's
  // form filling adds to inputs typed in (a browser artefact, not the page's doing).
  const shown = () => page.evaluate(() =>
    document.body.innerHTML.replace(/<script>[^]*<\/script>/, "").replaceAll(' style=""', ""));
  seen.real_page = await shown();
  await page.screenshot({ path: `${shots}/phone-checkin.png` });
  seen.duress = await checkIn("930462");
  seen.duress_lines = await lines();
  seen.duress_page = await shown();
  // A phone whose clock is ten minutes fast: the watcher refuses the time, the page takes the
  // watcher's from the answer and signs again, and the check-in goes through.
  await page.evaluate(() => { const real = Date.now; Date.now = () => real() + 600000; });
  seen.fast_clock = await checkIn("285071");
  seen.wrong = await checkIn("000000");
  // Two more wrong: the third waits, and the page says how long.
  await checkIn("000001");
  seen.locked = await checkIn("000002");

  await page.click("[data-lang=tg]");
  seen.tajik_button = await page.textContent("#checkin-button");
  seen.tajik_message = await page.textContent("#msg p");
  // A deadline as the Tajik page writes it (Chromium has no Tajik date format of its own).
  seen.tajik_date = await page.evaluate(() => when(Date.UTC(2026, 10, 30, 10, 7)));
  await page.screenshot({ path: `${shots}/phone-tajik.png` });
  seen.page_bytes = (await page.content()).length;

  // The same link a second time, on a Russian phone: it was used, and the page says so in
  // Russian, with none of the server's English.
  const again = await browser.newPage({ locale: "ru-RU", viewport: { width: 360, height: 640 } });
  await again.goto(link);
  await again.fill("#p1", "285071");
  await again.fill("#p2", "285071");
  await again.fill("#p3", "930462");
  await again.fill("#p4", "930462");
  await again.click("#enrol-button");
  await again.waitForSelector("#msg.err");
  seen.used_link_russian = await again.textContent("#msg p");

  // The spare link, with a watcher added that does not answer: the page names all three
  // before the PINs are typed, sets the phone up with the two that answer, says plainly which
  // did not, and keeps that one's token in the address to try again.
  const third = await browser.newPage({ locale: "en-US", viewport: { width: 360, height: 640 } });
  await third.goto(spare + "&" + encodeURIComponent(dead) + "=" + "ab".repeat(24));
  seen.partial_names = await namesOf(third);
  await third.fill("#p1", "285071");
  await third.fill("#p2", "285071");
  await third.fill("#p3", "930462");
  await third.fill("#p4", "930462");
  await third.click("#enrol-button");
  await third.waitForSelector("#msg.err");
  seen.partial = await third.textContent("#msg p");
  seen.partial_lines = await third.$$eval("#msg li", (l) => l.map((e) => e.textContent));
  seen.partial_fragment = new URL(third.url()).hash;
  seen.partial_forms_shown = [await third.isVisible("#enrol-button"),
    await third.isVisible("#checkin-button")];
  seen.partial_names_after = await namesOf(third);

  // A watcher enrolled with later, added by its own link to the page the phone has (a
  // change of fragment alone does not load the page again: the journalist opens the link).
  await page.goto(add);
  await page.reload();
  await page.click("[data-lang=en]");
  seen.add_names = await namesOf(page);
  await page.fill("#p1", "285071");
  await page.fill("#p2", "285071");
  await page.fill("#p3", "930462");
  await page.fill("#p4", "930462");
  await page.click("#enrol-button");
  await page.waitForSelector("#msg.ok");
  seen.added = await page.textContent("#msg p");
  seen.added_names = await namesOf(page);
  seen.three = await checkIn("285071");
  seen.three_lines = await lines();

  // The second watcher goes down. After the wait the lock asked for, one check-in: the
  // page says plainly which watcher did not answer and which took it, never success.
  process.kill(Number(downPid), "SIGTERM");
  await new Promise((ok) => setTimeout(ok, 1500));
  await page.click("[data-lang=en]");
  seen.one_down = await checkIn("285071");
  seen.one_down_lines = await lines();
  seen.one_down_class = await page.getAttribute("#msg", "class");
  await page.screenshot({ path: `${shots}/phone-one-down.png` });
  await page.click("[data-lang=tg]");
  seen.one_down_tajik = await page.textContent("#msg p");

  // A phone set up from a one-watcher link before kept one record, for the page's own
  // watcher: it still checks in there.
  await page.evaluate(() => new Promise((ok) => {
    const q = indexedDB.open("posbon", 1);
    q.onsuccess = () => {
      const tx = q.result.transaction("phone", "readwrite");
      const store = tx.objectStore("phone");
      const get = store.get("device");
      get.onsuccess = () => {
        const w = get.result.watchers[0];
        store.put({ id: w.id, subject: w.subject, key: w.key, pinKey: w.pinKey }, "device");
      };
      tx.oncomplete = () => ok();
    };
  }));
  await page.reload();
  await page.click("[data-lang=en]");
  seen.old_record_names = await namesOf(page);
  seen.old_record = await checkIn("285071");
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
