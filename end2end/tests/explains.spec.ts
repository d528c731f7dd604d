import { expect, test } from "@playwright/test";
import { DEMO, MembershipTypesPage, hydrated, newMember, newMemberWithAdultMonthly, portalSignIn, signInAs, unique } from "./pages";

// What people are told before they act (#20): the price of a booking, what
// cancelling means, why pausing is closed, where a member stands at the desk,
// and amounts that never break inside a number.

function aWednesdayAhead(): string {
  const d = new Date();
  d.setDate(d.getDate() + 7 + ((3 - d.getDay() + 7) % 7));
  return d.toISOString().slice(0, 10);
}

test("a portal booking that costs money says its price on the button, and cancelling says what it means", async ({ page, browser }) => {
  const staff = await browser.newContext();
  const email = await newMemberWithAdultMonthly(await staff.newPage());
  await staff.close();

  await portalSignIn(page, browser, email);
  await page.getByRole("link", { name: "Adult Monthly" }).click();
  await hydrated(page);
  await page.getByRole("link", { name: "Book a class or service" }).click();
  await hydrated(page);
  await page.getByLabel("Service", { exact: true }).selectOption({ label: "Yoga (12 places · 60 min · 1 credit or €15.00)" });
  await page.getByLabel("Day", { exact: true }).fill(aWednesdayAhead());
  await page.getByRole("button", { name: "Show times" }).click();
  // No credits: the money it costs is said before, and on the button itself.
  await expect(page.getByTestId("portal-book-cost")).toHaveText("Costs €13.50: it is added to your next invoice.");
  await expect(page.getByRole("button", { name: "Book 18:00", exact: true })).toHaveCount(0);
  await page.getByRole("button", { name: "Book 18:00 and pay €13.50" }).click();
  await expect(page.getByTestId("portal-booked")).toBeVisible();

  await page.getByRole("link", { name: "Bookings" }).click();
  await hydrated(page);
  await expect(page.getByTestId("portal-cancel-terms").first()).toContainText(
    "and the €13.50 is taken off your bill; later, the €13.50 is kept",
  );
});

test("a type without pauses says so before any preview: disabled for the desk, an override note for a manager", async ({ page, browser }) => {
  await signInAs(page, DEMO.manager);
  const types = new MembershipTypesPage(page);
  await types.goto();
  const name = unique("Drop-in");
  await types.create({ name, fee: "29" });
  await expect(types.row(name)).toHaveCount(1);
  await newMember(page);
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: `${name} — €29.00 monthly` });
  await page.getByRole("button", { name: "Preview" }).click();
  // The preview and its Confirm sit together, before the form.
  const preview = page.getByTestId("sale-preview");
  await expect(preview.getByRole("button", { name: "Confirm sale" })).toBeVisible();
  // Only the chosen type's price versions are offered.
  const prices = page.getByLabel("Price version");
  await expect(prices.locator("option")).not.toContainText(["Adult Monthly"]);
  await preview.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();
  await hydrated(page);
  const url = page.url();

  const pause = page.getByTestId("action-pause");
  await pause.locator("summary").click();
  await expect(pause.getByTestId("pause-refused")).toContainText(`${name} does not allow pauses.`);

  const desk = await (await browser.newContext()).newPage();
  await signInAs(desk, DEMO.desk);
  await desk.goto(url);
  await hydrated(desk);
  const closed = desk.getByTestId("action-pause");
  await expect(closed.getByRole("button", { name: "Pause" })).toBeDisabled();
  await expect(closed).toContainText(`${name} does not allow pauses. Only a manager can override it.`);
});

test("the desk search shows a suspended member as suspended, and amounts never wrap inside a number", async ({ page }) => {
  await signInAs(page, DEMO.desk);
  await page.goto("/members?q=Quinn");
  await hydrated(page);
  const row = page.getByTestId("members").getByRole("row").filter({ hasText: "Quinn" });
  await expect(row.locator(".badge").first()).toHaveText("Suspended");

  await page.goto("/billing");
  await hydrated(page);
  const due = page.getByTestId("dunning").locator("td.num").first();
  await expect(due).toBeVisible();
  expect(await due.evaluate((el) => getComputedStyle(el).whiteSpace)).toBe("nowrap");
  // The amount's text sits on one line: not broken inside the number.
  const lines = await due.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
  });
  expect(lines).toBe(1);
});
