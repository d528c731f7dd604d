import { expect, test } from "@playwright/test";
import { DEMO, addDays, hydrated, newMember, signInAs } from "./pages";

/** A Wednesday one to two weeks ahead (clear of any time-zone edge). */
function aWednesdayAhead(): string {
  const today = new Date().toISOString().slice(0, 10);
  const dow = new Date(`${today}T12:00:00Z`).getUTCDay(); // 0 = Sunday
  const until = (3 - dow + 7) % 7 || 7;
  return addDays(today, until + 7);
}

test("a member's class is booked with credits, cancelled inside the window, and the credit comes back", async ({ page }) => {
  await signInAs(page, DEMO.desk);
  await newMember(page);
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: "Adult Monthly — €59.00 monthly" });
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Adult Monthly/ })).toBeVisible();
  await hydrated(page);

  // Three credits from a class pack.
  const credits = page.getByTestId("credits");
  await credits.getByTestId("adjust-credits").locator("summary").click();
  await credits.getByLabel("Credits (negative to take away)").fill("3");
  await credits.getByLabel("Reason", { exact: true }).fill("class pack bought at the desk");
  await credits.getByRole("button", { name: "Save adjustment" }).click();
  await expect(credits.getByTestId("credit-balance")).toHaveText("3 credits");

  // Book Wednesday's yoga class with a credit.
  await credits.getByRole("link", { name: "Book a class or service" }).click();
  await hydrated(page);
  await page.getByLabel("Service", { exact: true }).selectOption({ label: "Yoga (12 places · 60 min · 1 credit or €15.00)" });
  const day = aWednesdayAhead();
  await page.getByLabel("Day", { exact: true }).fill(day);
  await page.getByRole("button", { name: "Show times" }).click();
  await expect(page.getByTestId("times")).toContainText("18:00");
  await page.getByLabel("Pay with").selectOption("credits");
  await page.getByRole("button", { name: "Book 18:00" }).click();
  const bookings = page.getByTestId("bookings");
  await expect(bookings).toContainText(`${day} 18:00`);
  await expect(bookings).toContainText("1 credit");
  await expect(page.getByTestId("book-balance")).toHaveText("2 credits");

  // The schedule of that day shows the booking and one place fewer.
  await page.goto(`/schedule?day=${day}`);
  const slot = page.getByTestId("slot").filter({ hasText: "Yoga" });
  await expect(slot).toContainText(/booked, \d+ free/);
  await page.goBack();
  await hydrated(page);

  // Cancelled days before: inside the 12-hour window, the credit comes back.
  await bookings.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("booking-outcome")).toHaveText("Cancelled inside the 12-hour window: 1 credit given back.");
  await expect(page.getByTestId("book-balance")).toHaveText("3 credits");
  await expect(bookings).toContainText("Cancelled");
});

test("a service with one place bills the first member the member price and shows it full to the next", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  await page.goto("/services");
  await hydrated(page);
  await expect(page.getByTestId("services")).toContainText("Massage");
  // A new service with one place.
  const form = page.getByRole("region", { name: "New service" });
  const name = `Private session ${Date.now().toString(36)}`;
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Timetable").fill("Mon 07:00, Tue 07:00, Wed 07:00, Thu 07:00, Fri 07:00, Sat 07:00, Sun 07:00");
  await form.getByLabel("Places per slot").fill("1");
  await form.getByLabel("Price in credits (empty: not with credits)").fill("");
  await form.getByLabel("Price in money (empty: not for money)").fill("30");
  await form.getByRole("button", { name: "Add service" }).click();
  await expect(page.getByTestId("services")).toContainText(name);

  const day = addDays(new Date().toISOString().slice(0, 10), 3);
  const book = async () => {
    await newMember(page);
    await page.getByRole("link", { name: "Sell a membership" }).click();
    await hydrated(page);
    await page.getByLabel("Membership type").selectOption({ label: "Adult Monthly — €59.00 monthly" });
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByRole("button", { name: "Confirm sale" }).click();
    await expect(page.getByRole("heading", { level: 1, name: /Adult Monthly/ })).toBeVisible();
    await hydrated(page);
    await page.getByRole("link", { name: "Book a class or service" }).click();
    await hydrated(page);
    await page.getByLabel("Service", { exact: true }).selectOption({ label: `${name} (1 place · 60 min · €30.00)` });
    await page.getByLabel("Day", { exact: true }).fill(day);
    await page.getByRole("button", { name: "Show times" }).click();
  };
  await book();
  await page.getByRole("button", { name: "Book 07:00" }).click();
  await expect(page.getByTestId("bookings")).toContainText("€27.00"); // the 10% member price
  // The next member sees it full.
  await book();
  await expect(page.getByTestId("times")).toContainText("0 places left");
  await expect(page.getByRole("button", { name: "Book 07:00" })).toHaveCount(0);
});
