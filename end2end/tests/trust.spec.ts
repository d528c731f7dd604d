import { type Browser, expect, type Page, test } from "@playwright/test";
import { DEMO, hydrated, newMemberWithAdultMonthly, portalSignIn, signInAs, unique } from "./pages";

// Text that would be markup, or script, if a page wrote it unescaped. Each is
// typed where the public, a member or staff can type, and every page that
// shows it is opened, server-rendered and hydrated: no dialog may open and
// the text must read as typed.
const PAYLOADS = [
  "</title><script>alert('title')</script>",
  "</textarea><script>alert('area')</script>",
  "<img src=x onerror=alert('img')>",
  "\"><svg onload=alert('attr')>",
];

test.describe.configure({ timeout: 120_000 });

function watchDialogs(page: Page): string[] {
  const fired: string[] = [];
  page.on("dialog", async (dialog) => {
    fired.push(dialog.message());
    await dialog.dismiss();
  });
  return fired;
}

async function noInjectedMarkup(page: Page): Promise<void> {
  await expect(page.locator("img[src='x'], svg[onload], script:not([src]):not([nonce])")).toHaveCount(0);
}

test("hostile text typed by staff reads as text on the pages that show it", async ({ page }) => {
  const fired = watchDialogs(page);
  await signInAs(page, DEMO.desk);
  const last = unique("Xss").replace(/\s+/g, "");
  await page.goto("/members/new");
  await hydrated(page);
  await page.getByLabel("First name").fill(PAYLOADS[0]);
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Notes").fill(PAYLOADS.join("\n"));
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(last) })).toBeVisible();

  // The member's page as the server renders it, then hydrated.
  await page.reload();
  await hydrated(page);
  expect(await page.title()).toContain(PAYLOADS[0]);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(PAYLOADS[0]);
  await expect(page.getByLabel("Notes")).toHaveValue(PAYLOADS.join("\n"));
  await noInjectedMarkup(page);

  await page.goto(`/members?q=${encodeURIComponent(last.toLowerCase())}`);
  await hydrated(page);
  await expect(page.getByTestId("members")).toContainText(PAYLOADS[0]);
  await noInjectedMarkup(page);

  // An organization's name and billing address.
  await page.goto("/organizations");
  await hydrated(page);
  const org = `${PAYLOADS[2]} ${unique("Org")}`;
  await page.getByLabel("Organization name").fill(org);
  await page.getByLabel("Contact email").fill("office@xss.example");
  await page.getByRole("button", { name: "Add organization" }).click();
  await expect(page.getByRole("heading", { level: 1, name: org })).toBeVisible();
  await page.reload();
  await hydrated(page);
  expect(await page.title()).toContain(PAYLOADS[2]);
  await noInjectedMarkup(page);
  expect(fired).toEqual([]);
});

async function joinOnline(page: Page, first: string, email: string): Promise<void> {
  await page.goto("/join/harbour-street");
  await hydrated(page);
  await page.getByRole("link", { name: "Join with Adult Monthly" }).click();
  await hydrated(page);
  await page.getByLabel("First name").fill(first);
  await page.getByLabel("Last name").fill(PAYLOADS[3]);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "See the first invoice" }).click();
  await expect(page.getByTestId("signup-preview")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Pay and join" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "You are in" })).toBeVisible();
}

test("hostile text from the public signup and the portal reads as text for staff and the member", async ({ page, browser }) => {
  const fired = watchDialogs(page);
  const email = `${unique("xss").replace(/\s+/g, "").toLowerCase()}@example.com`;
  await joinOnline(page, PAYLOADS[1], email);
  await page.reload();
  await hydrated(page);
  await noInjectedMarkup(page);

  // Staff find the new member and open their page.
  const staff = await staffPage(browser);
  const staffFired = watchDialogs(staff);
  await staff.goto(`/members?q=${encodeURIComponent(email)}`);
  await hydrated(staff);
  await expect(staff.getByTestId("members")).toContainText(PAYLOADS[1]);
  await staff.getByTestId("members").getByRole("link").first().click();
  await hydrated(staff);
  await expect(staff.getByRole("heading", { level: 1 })).toContainText(PAYLOADS[1]);
  await staff.reload();
  await hydrated(staff);
  expect(await staff.title()).toContain(PAYLOADS[1]);
  await noInjectedMarkup(staff);

  // A member names themselves with markup in the portal.
  const member = await (await browser.newContext({ viewport: page.viewportSize() ?? undefined })).newPage();
  const memberFired = watchDialogs(member);
  const memberEmail = await newMemberWithAdultMonthly(staff);
  await portalSignIn(member, browser, memberEmail);
  await member.getByRole("link", { name: "Profile" }).click();
  await hydrated(member);
  const details = member.getByRole("form", { name: "Your details" });
  await details.getByLabel("First name").fill(PAYLOADS[0]);
  await details.getByRole("button", { name: "Save my details" }).click();
  await expect(member.getByText("Your details are saved.")).toBeVisible();
  await member.goto("/portal");
  await hydrated(member);
  await expect(member.getByRole("heading", { level: 1 })).toContainText(PAYLOADS[0]);
  await noInjectedMarkup(member);

  expect([...fired, ...staffFired, ...memberFired]).toEqual([]);
});

async function staffPage(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInAs(page, DEMO.desk);
  return page;
}
