import { expect, test } from "@playwright/test";
import { DEMO, hydrated, signInAs, unique } from "./pages";

test("front desk adds a member, finds them by phone and by name, edits and archives them", async ({ page }) => {
  await signInAs(page, "desk@harbour.example");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Members", exact: true }).click();
  await page.getByRole("link", { name: "New member" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "New member" })).toBeVisible();
  const last = unique("Quist").replace(/\s+/g, "");
  await page.getByLabel("First name").fill("Nora");
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator("#f-email-error")).toHaveText("enter an email address such as name@example.com");

  await page.getByLabel("Email").fill(`nora.${last.toLowerCase()}@example.com`);
  await page.getByLabel("Phone").fill("+49 40 7654321");
  await page.getByLabel("Member type").selectOption("Adult");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(`Nora ${last}`) })).toBeVisible();
  await expect(page.getByTestId("member-status")).toHaveText("Active");
  const memberUrl = page.url();

  await page.goto(`/members?q=${encodeURIComponent(last.toLowerCase())}`);
  await expect(page.getByTestId("members").getByRole("rowheader")).toHaveText([`Nora ${last}`]);

  await page.goto(memberUrl);
  await hydrated(page);
  await page.getByText("Edit details").click();
  await page.getByLabel("First name").fill("Norah");
  await page.getByRole("button", { name: "Save details" }).click();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(`Norah ${last}`) })).toBeVisible();

  await page.getByText("Archive", { exact: true }).click();
  await page.getByRole("button", { name: "Confirm: archive" }).click();
  await expect(page.getByTestId("member-status")).toHaveText("Archived");
  await page.goto(`/members?q=${encodeURIComponent(last.toLowerCase())}`);
  await expect(page.getByTestId("no-members")).toBeVisible();
});

test("a viewer finds a member but cannot add or edit", async ({ page }) => {
  await signInAs(page, DEMO.viewer);
  await page.goto("/members?q=rossi");
  await expect(page.getByTestId("members").getByRole("rowheader")).toHaveText(["Elena Rossi"]);
  await expect(page.getByRole("link", { name: "New member" })).toHaveCount(0);
  await page.getByRole("link", { name: "Elena Rossi" }).click();
  await expect(page.getByRole("region", { name: "Profile" })).toContainText("Prefers early-morning classes.");
  await expect(page.getByText("Edit details")).toHaveCount(0);
});
