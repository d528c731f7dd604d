import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import { hydrated, mailedCode, signInAs, unique } from "./pages";

// axe-core on every page of the member portal and the public signup, on both
// projects (desktop and phone): no serious or critical violations. Each page's
// counts are printed, so the test output shows what was checked.

// Each test audits many pages (and signs members in): more than the default 30 s.
test.describe.configure({ timeout: 120_000 });

async function audit(page: Page, label: string): Promise<void> {
  await hydrated(page);
  const results = await new AxeBuilder({ page }).analyze();
  const blocking = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const minor = results.violations.length - blocking.length;
  console.log(
    `axe ${label.padEnd(28)} ${results.passes.length} rules passed, ${blocking.length} serious or critical, ${minor} minor`,
  );
  const described = blocking.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(described, `${label}: serious or critical accessibility violations`).toEqual([]);
}

test("every portal page passes axe-core", async ({ page, browser }) => {
  // Elena has the spa plan: credits, bookings and invoices to show.
  const email = "elena.rossi@example.com";
  await page.goto("/portal/sign-in");
  await audit(page, "sign-in");
  await page.goto("/portal/sign-in/harbour-athletic-club");
  await audit(page, "sign-in (club's address)");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page.getByRole("status")).toContainText(email);
  await audit(page, "sign-in (code)");
  await page.getByLabel("Code from the email").fill(await mailedCode(browser, email));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Hello, Elena" })).toBeVisible();
  await audit(page, "home");

  await page.getByRole("link", { name: "Spa Monthly" }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: "Spa Monthly" })).toBeVisible();
  await audit(page, "membership");
  await page.getByRole("link", { name: "Book a class or service" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Book" })).toBeVisible();
  await audit(page, "book");

  await page.getByRole("link", { name: "Bookings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your bookings" })).toBeVisible();
  await audit(page, "bookings");
  await page.getByTestId("portal-bookings").getByRole("link").first().click();
  await expect(page).toHaveURL(/\/portal\/bookings\/\d+$/);
  await audit(page, "booking");

  await page.getByRole("link", { name: "Invoices" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Invoices" })).toBeVisible();
  await audit(page, "invoices");
  await page.getByTestId("portal-invoices").getByRole("link").first().click();
  await expect(page).toHaveURL(/\/portal\/invoices\/\d+$/);
  await audit(page, "invoice");

  await page.getByRole("link", { name: "Profile" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your profile" })).toBeVisible();
  await audit(page, "profile");

  // An email of two members of one business picks one: the front desk adds
  // a parent and a child who share the parent's email.
  const shared = `${unique("family").replace(/\s+/g, "").toLowerCase()}@example.com`;
  const desk = await browser.newContext({ viewport: page.viewportSize() ?? undefined });
  const staff = await desk.newPage();
  await signInAs(staff, "desk@harbour.example");
  for (const first of ["Maeve", "Niamh"]) {
    await staff.goto("/members/new");
    await hydrated(staff);
    await staff.getByLabel("First name").fill(first);
    await staff.getByLabel("Last name").fill("Family");
    await staff.getByLabel("Email").fill(shared);
    await staff.getByRole("button", { name: "Add member" }).click();
    await expect(staff.getByRole("heading", { level: 1, name: new RegExp(`${first} Family`) })).toBeVisible();
  }
  await desk.close();
  const family = await browser.newContext({ viewport: page.viewportSize() ?? undefined });
  const choose = await family.newPage();
  await choose.goto("/portal/sign-in");
  await hydrated(choose);
  await choose.getByLabel("Email").fill(shared);
  await choose.getByRole("button", { name: "Send me a code" }).click();
  await expect(choose.getByRole("status")).toContainText(shared);
  await choose.getByLabel("Code from the email").fill(await mailedCode(browser, shared));
  await choose.getByRole("button", { name: "Sign in" }).click();
  await expect(choose.getByRole("heading", { level: 1, name: "Choose your account" })).toBeVisible();
  await audit(choose, "choose an account");
  await family.close();
});

test("every signup page passes axe-core", async ({ page }, info) => {
  await page.goto("/join/harbour-street");
  await audit(page, "join (location)");
  await page.getByRole("link", { name: "Join with Adult Monthly" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Join with Adult Monthly" })).toBeVisible();
  await audit(page, "signup (details)");
  await page.getByLabel("First name").fill("Alex");
  await page.getByLabel("Last name").fill("Axe");
  await page.getByLabel("Email").fill(`alex.axe.${info.project.name}@example.org`);
  await page.getByRole("button", { name: "See the first invoice" }).click();
  await expect(page.getByTestId("signup-preview")).toContainText("Initiation fee");
  await audit(page, "signup (preview and card)");
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Pay and join" }).click();
  await expect(page).toHaveURL(/\/join\/status\//);
  await audit(page, "signup status");
});
