// A large upload on the page, in parts, in a real browser (Debian's Chromium through
// playwright-core): the network is cut mid-way (request interception aborts every part after
// the first few), the page is reloaded, the same file chosen again, and the upload resumes
// with only the parts S3 lacks, then converts; the MP3 is downloaded. Run by
// tools/local-stack/tests/web.rs, which checks the MP3.
//
// Environment: APP_URL, EMAIL, PASSWORD, BIG (the file), DOWNLOADS (a directory), SHOTS
// (a directory for screenshots, optional). Prints one JSON line: {"downloaded", "checks", ...}.
import { chromium } from "playwright-core";
import { join } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const app = env("APP_URL");
const shots = process.env.SHOTS || "";
let checks = 0;
function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  checks += 1;
}
async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
const isPart = (url) => url.includes("partNumber=");
const partUrls = (url) => isPart(url.toString());

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  await page.goto(app + "/");
  await page.fill("#email", env("EMAIL"));
  await page.fill("#password", env("PASSWORD"));
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#app-view:not([hidden])");

  // The first three parts go through; then the network is cut for every part.
  let let_through = 3;
  let delivered = 0;
  page.on("response", (r) => {
    if (isPart(r.url()) && r.request().method() === "PUT" && r.status() === 200) delivered += 1;
  });
  await page.route(partUrls, (route) => {
    // CORS preflights pass; the PUTs are what the network carries or not.
    if (route.request().method() !== "PUT") return route.continue();
    if (let_through > 0) { let_through -= 1; return route.continue(); }
    return route.abort("internetdisconnected");
  });
  await page.setInputFiles("#file", env("BIG"));
  await page.click("#convert");
  await page.waitForFunction(() => document.querySelector("#current-status").textContent.includes("retrying"), null, { timeout: 120000 });
  for (let i = 0; delivered < 3 && i < 600; i += 1) await new Promise((r) => setTimeout(r, 100));
  check(delivered === 3, `three parts delivered before the cut: ${delivered}`);
  const info = await page.textContent("#upload-info");
  check(/MB\/s, .* left/.test(info), `speed and time left shown: ${info}`);
  await shot(page, "p1-cut");

  // Reload: the page offers to resume; the same file chosen again resumes.
  await page.unroute(partUrls);
  await page.reload();
  await page.waitForSelector("#app-view:not([hidden])");
  await page.waitForSelector("#resumable:not([hidden])");
  check((await page.textContent("#resumable")).includes("did not finish"), "the page offers to resume");
  let held = -1;
  let total = -1;
  page.on("response", async (r) => {
    if (r.request().method() === "GET" && /\/uploads\/[0-9A-Z]{26}$/.test(r.url()) && held < 0) {
      const body = await r.json();
      held = body.upload.uploaded.length;
      total = body.upload.part_count;
    }
  });
  let sentAfter = 0;
  page.on("request", (r) => { if (isPart(r.url()) && r.method() === "PUT") sentAfter += 1; });
  await page.setInputFiles("#file", env("BIG"));
  check((await page.textContent("#convert")) === "Resume the upload", "the button says resume");
  await shot(page, "p2-resume");
  await page.click("#convert");
  await page.waitForSelector("#result:not([hidden]), #job-error:not([hidden])", { timeout: 300000 });
  const failed = await page.textContent("#job-error");
  check(!failed, `the resumed upload ended in an error: ${failed} (status ${await page.textContent("#current-status")})`);
  check(held >= 3, `S3 held the delivered parts: ${held}`);
  check(sentAfter === total - held, `only the missing parts were sent: ${sentAfter} of ${total}, ${held} held`);
  check((await page.textContent("#current-status")) === "done", "converted");
  check(await page.isHidden("#resumable"), "nothing left to resume");
  await shot(page, "p3-done");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const saved = join(env("DOWNLOADS"), "big.mp3");
  await download.saveAs(saved);
  console.log(JSON.stringify({ downloaded: saved, checks, held, total, sentAfter }));
} finally {
  await browser.close();
}
