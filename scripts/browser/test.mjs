// Loads `/` and `/docs` from a running server in headless Chromium: generates a link,
// waits for the QR preview, downloads the PNG (decoded by the caller), checks that a 429
// is shown clearly and that nothing is fetched from another host; screenshots go to `out`.
import fs from "node:fs";
import { chromium } from "playwright-core";

const [base, out] = process.argv.slice(2);
const fail = (msg) => { console.error("browser test: " + msg); process.exit(1); };
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  // A phone-sized viewport.
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const foreign = [];
  const errors = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith("blob:") && !u.startsWith("data:")) foreign.push(u);
  });
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(base + "/");
  await page.getByLabel("Phone number", { exact: true }).fill("+1 415 555 2671");
  await page.getByLabel("Prefilled message (optional)").fill("Olá! 50% off?");
  // Keyboard only: focus the button and press Enter.
  await page.focus("#generate");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() =>
    document.getElementById("out-link").textContent.includes("text=Ol%C3%A1"));
  const link = (await page.textContent("#out-link")).trim();
  if (link !== "https://wa.me/14155552671?text=Ol%C3%A1!%2050%25%20off%3F") fail("link " + link);
  for (const id of ["#out-api", "#out-deep"]) {
    if (!(await page.textContent(id)).includes("phone=14155552671")) fail(id);
  }
  await page.waitForFunction(() => {
    const img = document.getElementById("qr");
    return img.src.startsWith("blob:") && img.complete && img.naturalWidth > 0;
  });
  await page.screenshot({ path: `${out}/generator.png`, fullPage: true });
  const href = await page.getAttribute("#dl-png", "href");
  const png = await page.request.get(new URL(href, base).toString());
  if (png.headers()["content-type"] !== "image/png") fail("download is not a PNG");
  fs.writeFileSync(`${out}/qr.png`, await png.body());
  fs.writeFileSync(`${out}/link.txt`, link);

  // A bad number is explained, with its code.
  await page.getByLabel("Phone number", { exact: true }).fill("12");
  await page.click("#generate");
  await page.waitForFunction(() => /phone_/.test(document.getElementById("error").textContent));

  // The docs, on a desktop-sized viewport (Redoc folds its menu away on phones), before
  // the limit below is used up (the document itself is a link-API call).
  const docs = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  docs.on("pageerror", (e) => errors.push(String(e)));
  docs.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith("blob:") && !u.startsWith("data:")) foreign.push(u);
  });
  await docs.goto(base + "/docs");
  await docs.getByRole("heading", { name: /wa-kit API/ }).first().waitFor({ timeout: 30000 });
  await docs.getByText("/send-message").first().waitFor({ state: "attached", timeout: 30000 });
  await docs.screenshot({ path: `${out}/docs.png` });

  // Past the per-IP limit the page says so.
  await page.getByLabel("Phone number", { exact: true }).fill("+1 415 555 2671");
  let limited = false;
  // (Cached answers are free, so each try asks for a new text.)
  for (let i = 0; i < 40 && !limited; i++) {
    await page.getByLabel("Prefilled message (optional)").fill("try " + i);
    await page.click("#generate");
    await page.waitForTimeout(50);
    limited = /429/.test(await page.textContent("#error"));
  }
  if (!limited) fail("no 429 shown");
  await page.screenshot({ path: `${out}/generator-429.png`, fullPage: true });


  if (foreign.length) fail("fetched from other hosts: " + foreign.join(", "));
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(`browser test: ok (link ${link}; screenshots in ${out})`);
} finally {
  await browser.close();
}
