import { expect, test } from "@playwright/test";
import { hydrated, signInAs, unique } from "./pages";

test("front desk adds a company, authorizes members up to its maximum and removes one", async ({ page }) => {
  await signInAs(page, "desk@harbour.example");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Organizations" }).click();
  await hydrated(page);
  await expect(page.getByTestId("organizations")).toContainText("Northwind Design");
  const name = unique("Acme Studio");
  await page.getByLabel("Organization name").fill(name);
  await page.getByLabel("Contact email").fill("office@acme.example");
  await page.getByLabel("Most authorized members").fill("2");
  await page.getByRole("button", { name: "Add organization" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await hydrated(page);

  const number = page.getByLabel("Authorize member number");
  for (const n of ["1001", "1002"]) {
    await number.fill(n);
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page.getByTestId("authorized-count")).toHaveText(n === "1001" ? "1 of at most 2" : "2 of at most 2");
  }
  await number.fill("1003");
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page.locator("#member-number-error")).toHaveText("the organization allows at most 2 authorized members: remove one first");

  const first = page.getByTestId("authorized-members").getByRole("listitem").first();
  const removed = (await first.getByRole("link").textContent()) ?? "";
  await first.getByRole("button", { name: `Remove ${removed}` }).click();
  await expect(page.getByTestId("authorized-count")).toHaveText("1 of at most 2");
  await expect(page.getByTestId("authorized-members")).not.toContainText(removed);
});
