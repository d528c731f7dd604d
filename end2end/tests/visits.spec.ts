import { expect, test } from "@playwright/test";
import { DEMO, addDays, hydrated, signInAs } from "./pages";

test("the desk schedules an included fitness assessment and marks it completed", async ({ page }) => {
  await signInAs(page, DEMO.desk);
  await page.goto("/visits?form[status]=not_scheduled");
  await hydrated(page);
  await expect(page.getByTestId("recurring-services")).toContainText("Fitness assessment: 2 a year, included in Annual Prepaid");
  const visits = page.getByTestId("visits");
  const first = visits.getByRole("row").nth(1);
  await expect(first).toContainText("Not scheduled");
  const due = (await first.getByRole("rowheader").innerText()).trim();
  const day = addDays(due, 1);
  await first.getByLabel("Day").fill(day);
  await first.getByLabel("Time").fill("10:15");
  const changed = () => page.waitForResponse((r) => r.url().includes("visits/change"));
  await Promise.all([changed(), first.getByRole("button", { name: "Schedule" }).click()]);

  // The day's schedule lists it beside the classes.
  await page.goto(`/schedule?day=${day}`);
  await expect(page.getByTestId("day-visits")).toContainText("10:15 Fitness assessment at Harbour Street, studio 2");

  // Scheduled visits are found by their status; completing one closes it.
  await page.goto("/visits?form[status]=scheduled");
  await hydrated(page);
  const row = page.getByTestId("visits").getByRole("row").filter({ hasText: `for ${day} 10:15` });
  await expect(row).toHaveCount(1);
  await Promise.all([changed(), row.getByRole("button", { name: "Completed" }).click()]);
  await page.goto("/visits?form[status]=completed");
  await expect(page.getByTestId("visits")).toContainText(`Completed for ${day} 10:15`);
});
