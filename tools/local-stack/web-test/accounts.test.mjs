// The page's account flows in a real browser (Debian's Chromium through playwright-core),
// against a running stack whose e-mails are read from the local SES: sign up and follow the
// e-mailed link, convert and delete a job, forget the password and follow the reset link, and
// delete the account. Run by tools/local-stack/tests/web.rs.
//
// Environment: APP_URL, MOTO_URL (the local AWS, whose /moto-api/data.json lists sent e-mails),
// EMAIL (a new address), VIDEO, SHOTS (a directory for screenshots, optional).
// Prints one JSON line: {"checks": n}.
import { chromium } from "playwright-core";
import { join } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const app = env("APP_URL");
const email = env("EMAIL");
const shots = process.env.SHOTS || "";
const first = "a kettle sings on mars";
const second = "seven owls read the tide";
let checks = 0;
function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  checks += 1;
}
async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// The link with `marker` in the newest e-mail to `email`, waiting for it.
async function linkInMail(marker, count) {
  for (let i = 0; i < 150; i += 1) {
    const data = await (await fetch(env("MOTO_URL") + "/moto-api/data.json")).json();
    const mails = ((data.ses || {}).Message || []).filter((m) => (m.destinations.ToAddresses || []).includes(email));
    const found = mails.reverse().map((m) => m.body.split(/\s+/).find((w) => w.includes(marker))).find(Boolean);
    if (mails.length >= count && found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no e-mail to ${email} with ${marker}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  await page.goto(app + "/");

  // Sign up: a weak password is refused with the reason; then the link is e-mailed.
  await page.click("#show-signup");
  await page.fill("#signup-email", email);
  await page.fill("#signup-password", "password1234");
  await page.fill("#signup-password2", "password1234");
  await page.click("#signup button[type=submit]");
  await page.waitForSelector("#signup-error:not([hidden])");
  check((await page.textContent("#signup-error")).includes("easy to guess"), "a weak password's reason");
  await page.fill("#signup-password", first);
  await page.fill("#signup-password2", first);
  await page.click("#signup button[type=submit]");
  await page.waitForSelector("#login-note:not([hidden])");
  check((await page.textContent("#login-note")).includes("Check your e-mail"), "told to check the e-mail");
  await shot(page, "a1-signed-up");

  // The e-mailed link logs the new user in.
  const verify = await linkInMail("verify=", 1);
  check(verify.startsWith(app + "/?verify="), `the link opens this page: ${verify}`);
  await page.goto(verify);
  await page.waitForSelector("#app-view:not([hidden])");
  check((await page.textContent("#who")) === email, "logged in as the new user");
  check(!page.url().includes("verify="), "the token left the address bar");

  // Convert the sample, then delete it from the list.
  await page.setInputFiles("#file", env("VIDEO"));
  await page.click("#convert");
  await page.waitForSelector("#result:not([hidden])", { timeout: 120000 });
  await page.waitForSelector("#jobs tr button");
  await shot(page, "a2-converted");
  await page.click("#jobs tr button");
  await page.waitForSelector("#no-jobs:not([hidden])");
  check((await page.$$("#jobs tr")).length === 0, "the job is gone from the list");

  // Forgot the password: the reset link, a new password, logged in again.
  await page.click("#logout");
  await page.click("#show-forgot");
  await page.fill("#forgot-email", email);
  await page.click("#forgot button[type=submit]");
  await page.waitForSelector("#login-note:not([hidden])");
  const reset = await linkInMail("reset=", 2);
  await page.goto(reset);
  await page.waitForSelector("#reset-view:not([hidden])");
  await page.fill("#reset-password", second);
  await page.click("#reset button[type=submit]");
  await page.waitForSelector("#app-view:not([hidden])");
  check((await page.textContent("#who")) === email, "logged in with the new password");
  await shot(page, "a3-reset");

  // Delete the account: a wrong password is refused; the right one ends it.
  await page.click("#leave summary");
  await page.fill("#delete-password", first);
  await page.click("#delete-account button[type=submit]");
  await page.waitForSelector("#delete-error:not([hidden])");
  check((await page.textContent("#delete-error")) === "Wrong password.", "a wrong password");
  check(!(await page.isHidden("#app-view")), "still logged in after a wrong password");
  await page.fill("#delete-password", second);
  await page.click("#delete-account button[type=submit]");
  await page.waitForSelector("#login-note:not([hidden])");
  check((await page.textContent("#login-note")).includes("deleted"), "told the account is deleted");
  await shot(page, "a4-deleted");

  // Its password opens nothing now.
  await page.fill("#email", email);
  await page.fill("#password", second);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#login-error:not([hidden])");
  check((await page.textContent("#login-error")) === "Wrong email or password.", "the account is gone");
  console.log(JSON.stringify({ checks }));
} finally {
  await browser.close();
}
