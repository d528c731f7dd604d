import { expect, test, type Page } from "@playwright/test";
import { DEMO, hydrated, signInAs, unique } from "./pages";

/** The full editor at /membership-types/new. */
class TypeEditor {
  constructor(private readonly page: Page) {}

  async gotoNew(): Promise<void> {
    await this.page.goto("/membership-types/new");
    await hydrated(this.page);
  }

  field(label: string | RegExp) {
    return this.page.getByLabel(label, { exact: typeof label === "string" });
  }

  async save(): Promise<void> {
    await this.page.getByRole("button", { name: /Create type|Save changes/ }).click();
  }
}

/** A date `days` from today as YYYY-MM-DD. */
function daysFromNow(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}

test("a manager models a gym plan with a pause policy, activates it, changes its price and sees it offered at its location only", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  const editor = new TypeEditor(page);
  await editor.gotoNew();
  const name = unique("Riverside Gym");
  await editor.field("Name").fill(name);
  await editor.field("Fee (EUR)").fill("49");
  await editor.field("Initiation fee (EUR)").fill("20");
  await editor.field("Pausing allowed").check();
  await editor.field("Shortest pause (days)").fill("7");
  await editor.field("Longest pause (days)").fill("30");
  await editor.field("Minimum commitment (periods)").fill("3");
  await editor.field("Locations").selectOption({ label: "Selected locations" });
  await editor.field("Riverside").check();
  await editor.save();

  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByTestId("type-status")).toHaveText("Draft");
  await expect(page.getByRole("region", { name: "Policies" })).toContainText("7 to 30 days");

  await page.getByText("Activate", { exact: true }).click();
  await page.getByRole("button", { name: "Confirm: activate" }).click();
  await expect(page.getByTestId("type-status")).toHaveText("Active");

  const from = daysFromNow(40);
  await page.getByText("Change the price from a date").click();
  await page.getByLabel("New fee").fill("55");
  await page.getByLabel("Effective from").fill(from);
  await page.getByRole("button", { name: "Add price version" }).click();
  const versions = page.getByTestId("price-versions").getByRole("row");
  await expect(versions).toHaveCount(3); // header + two versions
  await expect(versions.nth(1)).toContainText("€49.00");
  await expect(versions.nth(1)).toContainText("current");
  await expect(versions.nth(2)).toContainText(from);
  await expect(versions.nth(2)).toContainText("€55.00");

  await page.goto("/join/riverside");
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
  await expect(page.getByRole("listitem").filter({ hasText: name })).toContainText("€49.00 monthly");
  await page.goto("/join/harbour-street");
  await expect(page.getByRole("heading", { level: 1, name: "Join us at Harbour Street" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name })).toHaveCount(0);
});

test("the editor answers bad settings next to their fields and saves nothing", async ({ page }) => {
  await signInAs(page, DEMO.owner);
  const editor = new TypeEditor(page);
  await editor.gotoNew();
  const name = unique("Broken Pass");
  await editor.field("Name").fill(name);
  await editor.field("Purchase type").selectOption({ label: "Prepaid" });
  await expect(editor.field("Billing interval")).toBeDisabled();
  await editor.field("Fee (EUR)").fill("120");
  await editor.field("Term").selectOption({ label: "Fixed dates" });
  await editor.field("Fixed dates").fill("2027-05-31 to 2026-09-01");
  await editor.field("Member discount (%)").fill("150");
  await editor.save();
  await expect(page.locator("#f-seasons-error")).toHaveText("line 1: the range must end after it starts");
  await expect(page.locator("#f-member-discount-percent-error")).toHaveText("a percentage is between 0 and 100");
  await expect(editor.field("Fixed dates")).toHaveAttribute("aria-invalid", "true");

  await page.goto(`/membership-types?search=${encodeURIComponent(name)}`);
  await expect(page.getByTestId("no-types")).toBeVisible();
});

test("the catalog filters by search, status and location, and reorders by button", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  await page.goto("/membership-types");
  await hydrated(page);
  await page.getByLabel("Search").fill("spa");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/search=spa/);
  const rows = page.getByTestId("membership-types").getByRole("rowheader");
  await expect(rows).toHaveText(["Spa Monthly"]);

  await page.goto("/membership-types?location=&status=draft");
  await expect(rows).toHaveText(["Summer Swim"]);

  await page.goto("/membership-types");
  await hydrated(page);
  const names = async () => (await rows.allTextContents()).map((t) => t.trim());
  const before = await names();
  const second = before[1];
  await page.getByRole("button", { name: `Move ${second} up` }).click();
  await expect.poll(names).toEqual([second, before[0], ...before.slice(2)]);
  // Put it back with the keyboard.
  await page.getByRole("button", { name: `Move ${second} down` }).focus();
  await page.keyboard.press("Enter");
  await expect.poll(names).toEqual(before);
});

test("front desk reads a type but gets no editing actions", async ({ page }) => {
  await signInAs(page, "desk@harbour.example");
  await page.goto("/membership-types");
  await hydrated(page);
  await page.getByRole("link", { name: "Adult Monthly" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Adult Monthly" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Prices" })).toContainText("€59.00");
  await expect(page.getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Duplicate" })).toHaveCount(0);
});
