import { expect, test } from "@playwright/test";
import { DEMO, hydrated, newMember, signInAs } from "./pages";

test("the front desk adjusts a membership's credits with a reason, within its limit, and the history says why", async ({ page }) => {
  await signInAs(page, DEMO.desk);
  await newMember(page);
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: "Adult Monthly — €59.00 monthly" });
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Adult Monthly/ })).toBeVisible();
  await hydrated(page);

  const credits = page.getByTestId("credits");
  await expect(credits.getByTestId("credit-balance")).toHaveText("0 credits");
  const form = credits.getByTestId("adjust-credits");
  // The form closes when the section reloads after a saved adjustment.
  const open = async () => {
    if (!(await form.getByLabel("Credits (negative to take away)").isVisible())) {
      await form.locator("summary").click();
    }
  };
  await open();

  // No reason: refused, nothing written.
  await form.getByLabel("Credits (negative to take away)").fill("5");
  await form.getByRole("button", { name: "Save adjustment" }).click();
  await expect(form.getByText("say why: the reason is kept in the history")).toBeVisible();
  await expect(credits.getByTestId("credit-balance")).toHaveText("0 credits");

  await open();
  await form.getByLabel("Reason", { exact: true }).fill("welcome: five free classes");
  await form.getByRole("button", { name: "Save adjustment" }).click();
  await expect(credits.getByTestId("credit-balance")).toHaveText("5 credits");
  await expect(credits.getByTestId("credit-history")).toContainText("welcome: five free classes");

  // More than the front desk's limit (5) is a manager's; taking more than the balance is refused.
  await open();
  await form.getByLabel("Credits (negative to take away)").fill("-6");
  await form.getByLabel("Reason", { exact: true }).fill("taken back");
  await form.getByRole("button", { name: "Save adjustment" }).click();
  await expect(form.getByText("Taking away more than 5 credits at once needs a manager.")).toBeVisible();
  await form.getByLabel("Credits (negative to take away)").fill("-2");
  await form.getByLabel("Reason", { exact: true }).fill("two classes booked by phone");
  await form.getByRole("button", { name: "Save adjustment" }).click();
  await expect(credits.getByTestId("credit-balance")).toHaveText("3 credits");
  const rows = credits.getByTestId("credit-history").getByRole("row");
  await expect(rows).toHaveCount(3); // the header and two entries, newest first
  await expect(rows.nth(1)).toContainText("-2");
  await expect(rows.nth(1)).toContainText("Dana Desk");

  // The history filters by kind.
  await credits.getByLabel("Kind").selectOption("redeem");
  await credits.getByRole("button", { name: "Filter" }).click();
  await expect(credits.getByText("No entries.")).toBeVisible();
});
