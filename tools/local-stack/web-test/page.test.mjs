// The video2mp3 page in a real browser (Debian's Chromium through playwright-core), against a
// running stack: log in, upload the sample video, watch it convert, download the MP3; and the
// errors a person meets. Run by tools/local-stack/tests/web.rs, which starts the stack and
// checks the downloaded MP3 with a decoder of its own.
//
// Environment: APP_URL, EMAIL, PASSWORD, VIDEO, NOT_VIDEO, DOWNLOADS (a directory), SHOTS (a
// directory for screenshots, optional), MAX_UPLOAD_BYTES (the stack's limit).
// Prints one JSON line: {"downloaded": path, "checks": n}.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
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

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  await page.goto(app + "/");
  await shot(page, "1-login");

  // A wrong password, in plain words.
  await page.fill("#email", env("EMAIL"));
  await page.fill("#password", "not the password");
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#login-error:not([hidden])");
  check((await page.textContent("#login-error")) === "Wrong email or password.", "wrong password message");

  // Log in.
  await page.fill("#password", env("PASSWORD"));
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#app-view:not([hidden])");
  check((await page.textContent("#who")) === env("EMAIL").toLowerCase(), "who is logged in");
  await shot(page, "2-logged-in");

  // Upload the sample video: the upload bar moves to 100, the conversion ends done.
  await page.setInputFiles("#file", env("VIDEO"));
  await page.click("#convert");
  await page.waitForSelector("#result:not([hidden])", { timeout: 120000 });
  check((await page.getAttribute("#upload-bar", "value")) === "100", "upload bar at 100");
  check((await page.getAttribute("#convert-bar", "value")) === "100", "conversion bar at 100");
  check((await page.textContent("#current-status")) === "done", "status done");
  await shot(page, "3-done");

  // Download the MP3.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const saved = join(env("DOWNLOADS"), "from-the-page.mp3");
  await download.saveAs(saved);
  const bytes = readFileSync(saved);
  check(bytes.length > 10000 && bytes.subarray(0, 3).toString() === "ID3", "an MP3 with an ID3 tag");

  // Past jobs: the sample, done, with its link.
  await page.waitForSelector("#jobs tr");
  const row = await page.textContent("#jobs tr");
  check(row.includes("sample.mp4") && row.includes("done") && row.includes("MP3"), `past jobs row: ${row}`);

  // The email's link, /?job=ID: the page shows that job with a download link fetched now.
  const jobId = await page.evaluate(async (api) => {
    const token = sessionStorage.getItem("video2mp3.token");
    const r = await fetch(api + "/jobs?limit=1", { headers: { authorization: "Bearer " + token } });
    return (await r.json()).jobs[0].job_id;
  }, env("APP_URL"));
  await page.goto(env("APP_URL") + "/?job=" + jobId);
  await page.waitForSelector("#result:not([hidden])", { timeout: 30000 });
  check((await page.textContent("#current-name")) === "sample.mp4", "the linked job's name");
  check((await page.textContent("#current-status")) === "done", "the linked job is done");
  const href = await page.getAttribute("#download", "href");
  check(href.startsWith("http") && href.includes("X-Amz-Signature"), `a fresh download link: ${href}`);
  await shot(page, "3b-emailed-link");
  await page.goto(env("APP_URL") + "/");
  await page.waitForSelector("#app-view:not([hidden])");

  // More options: a time that is not one is refused on the page; then the sample cut from 1 s
  // to 4.5 s, mono, at 22.05 kHz (the MP3 is checked by the Rust test with ffprobe).
  await page.click("#more summary");
  await page.fill("#start", "1:75");
  await page.setInputFiles("#file", env("VIDEO"));
  await page.click("#convert");
  await page.waitForSelector("#job-error:not([hidden])");
  const badTime = await page.textContent("#job-error");
  check(badTime.includes('Start "1:75" is not a time'), `a bad time: ${badTime}`);
  await page.fill("#start", "");
  // A callback into a private network: the service's reason, before any upload.
  await page.fill("#callback-url", "https://10.0.0.1/hook");
  await page.setInputFiles("#file", env("VIDEO"));
  await page.click("#convert");
  await page.waitForFunction(() => document.querySelector("#job-error").textContent.includes("10.0.0.1"));
  const badCallback = await page.textContent("#job-error");
  check(badCallback.includes("a private, loopback, link-local or reserved address"), `a private callback: ${badCallback}`);
  await page.fill("#callback-url", "");
  await page.fill("#start", "1");
  await page.fill("#end", "0:04.5");
  await page.selectOption("#channels", "mono");
  await page.selectOption("#sample-rate", "22050");
  await page.selectOption("#loudness", "-16");
  await page.selectOption("#tags", "strip");
  await page.setInputFiles("#file", env("VIDEO"));
  await page.click("#convert");
  await page.waitForSelector("#result:not([hidden])", { timeout: 120000 });
  await shot(page, "3c-options");
  const [cut] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const withOptions = join(env("DOWNLOADS"), "with-options.mp3");
  await cut.saveAs(withOptions);
  const options = await page.evaluate(async (api) => {
    const token = sessionStorage.getItem("video2mp3.token");
    const r = await fetch(api + "/jobs?limit=1", { headers: { authorization: "Bearer " + token } });
    return (await r.json()).jobs[0].options;
  }, env("APP_URL"));
  const asked = { start: 1, end: 4.5, channels: "mono", sample_rate: 22050, loudness: -16, tags: "strip" };
  check(Object.keys(options).length === 6 && Object.entries(asked).every(([k, v]) => options[k] === v),
    `the job's options: ${JSON.stringify(options)}`);
  for (const id of ["#start", "#end"]) await page.fill(id, "");
  for (const id of ["#channels", "#sample-rate", "#loudness", "#tags"]) await page.selectOption(id, "");

  // A text file named .mp4: the converter's reason.
  await page.setInputFiles("#file", env("NOT_VIDEO"));
  await page.click("#convert");
  await page.waitForSelector("#job-error:not([hidden])", { timeout: 60000 });
  const bad = await page.textContent("#job-error");
  check(bad === "We could not convert this file: the file is not an audio or video format we can read.", `bad file: ${bad}`);
  check((await page.getAttribute("#current-status", "class")) === "failed", "the status shows as failed");
  await shot(page, "4-bad-file");

  // A file over the limit: refused before any upload, with the numbers.
  const limit = Number(env("MAX_UPLOAD_BYTES"));
  await page.setInputFiles("#file", { name: "big.mp4", mimeType: "video/mp4", buffer: Buffer.alloc(limit + 1) });
  await page.click("#convert");
  await page.waitForFunction(() => document.querySelector("#job-error").textContent.includes("largest accepted"));
  const big = await page.textContent("#job-error");
  check(big.includes(`the file is ${limit + 1} bytes; the largest accepted is ${limit} bytes`), `too large: ${big}`);
  await shot(page, "5-too-large");

  // A lost session (the token no longer valid): back to the login, told why.
  await page.evaluate(() => sessionStorage.setItem("video2mp3.token", "expired.or.revoked"));
  await page.reload();
  await page.waitForSelector("#login-view:not([hidden])");
  check((await page.textContent("#login-error")) === "Your session has ended. Please log in again.", "lost session");
  await shot(page, "6-session-ended");

  check(consoleErrors.every((e) => e.includes("401") || e.includes("400")), `console errors: ${consoleErrors}`);
  console.log(JSON.stringify({ downloaded: saved, with_options: withOptions, checks }));
} finally {
  await browser.close();
}
