import { expect, test } from "@playwright/test";
import { DEMO, hydrated, signInAs, unique } from "./pages";

async function startSignup(page: import("@playwright/test").Page, email: string): Promise<void> {
  await page.goto("/join/harbour-street");
  await hydrated(page);
  await page.getByRole("link", { name: "Join with Adult Monthly" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Join with Adult Monthly" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("First name").fill("Nora");
  await page.getByLabel("Last name").fill(unique("Joiner").replace(/\s+/g, ""));
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "See the first invoice" }).click();
  // The details are posted; the address carries only a draft's token.
  await expect(page).toHaveURL(/\?draft=/);
  expect(page.url()).not.toContain(encodeURIComponent(email));
  expect(page.url()).not.toContain("Nora");
  const preview = page.getByTestId("signup-preview");
  await expect(preview).toContainText("Initiation fee");
  await expect(page.getByTestId("signup-total")).toHaveText("Total today: €84.00");
  await hydrated(page);
}

test("a visitor joins online: a declined card, then another card completes the signup", async ({ page }) => {
  const email = `${unique("nora").replace(/\s+/g, "").toLowerCase()}@example.com`;
  await startSignup(page, email);
  await page.getByLabel("Card number").fill("4000 0000 0000 0002");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Pay and join" }).click();
  await expect(page).toHaveURL(/\/join\/status\//);
  await expect(page.getByRole("heading", { level: 1, name: "Payment failed" })).toBeVisible();
  await expect(page.getByTestId("signup-status")).toContainText("Your card was not charged: the card was declined.");
  await hydrated(page);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Pay and join" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "You are in" })).toBeVisible();
  await expect(page.getByTestId("signup-status")).toContainText("Your Adult Monthly membership is confirmed.");

  // The same email again: the preview says nothing of who is a member; the
  // signup charges nothing and asks for the code sent to the email instead.
  await startSignup(page, email);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Pay and join" }).click();
  await expect(page).toHaveURL(/\/portal\/sign-in\?.*joining=1/);
  await expect(page.getByTestId("joining-note")).toContainText("nothing was charged");
  await expect(page.getByLabel("Code from the email")).toBeVisible();
});

test("a double-submitted signup makes one member and one invoice", async ({ page, browser }) => {
  const email = `${unique("dora").replace(/\s+/g, "").toLowerCase()}@example.com`;
  await startSignup(page, email);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  // Two submissions of the same form, as a double click or a resend would make.
  await page.getByRole("form", { name: "Pay and join" }).evaluate((form: HTMLFormElement) => {
    form.requestSubmit();
    form.requestSubmit();
  });
  // The page shows whichever answer came last: the second may have been made
  // while the first was still charging the card; the status page says so and
  // reads "You are in" once the charge is booked.
  await expect(page).toHaveURL(/\/join\/status\//);
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole("heading", { level: 1, name: "You are in" })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15000 });

  const staff = await (await browser.newContext()).newPage();
  await signInAs(staff, DEMO.desk);
  await staff.goto(`/members?q=${encodeURIComponent(email)}`);
  await hydrated(staff);
  await expect(staff.getByTestId("members").getByRole("row")).toHaveCount(2); // the header and one member
  await staff.getByTestId("members").getByRole("link").first().click();
  await hydrated(staff);
  await expect(staff.getByRole("heading", { level: 1, name: /Nora/ })).toBeVisible();
  // One membership, its first invoice paid by the card now on file.
  await expect(staff.getByRole("row").filter({ hasText: "Adult Monthly" })).toHaveCount(1);
  await expect(staff.getByTestId("card-on-file")).toContainText("ending 4242");
  await expect(staff.getByText("Unpaid invoices")).toHaveCount(0);
});

test("a student membership is joined as a student, and the member is one", async ({ page, browser }) => {
  const email = `${unique("sami").replace(/\s+/g, "").toLowerCase()}@example.com`;
  await page.goto("/join/harbour-street");
  await hydrated(page);
  await expect(page.getByText("for Student members")).toBeVisible();
  await page.getByRole("link", { name: "Join with Student Monthly" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Join with Student Monthly" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("First name").fill("Sami");
  await page.getByLabel("Last name").fill(unique("Student").replace(/\s+/g, ""));
  await page.getByLabel("Email").fill(email);
  // The type is for students only: the form says so and joins as one.
  await expect(page.getByLabel("Joining as")).toHaveValue("Student");
  await expect(page.getByText("the front desk may ask to see proof")).toBeVisible();
  await page.getByRole("button", { name: "See the first invoice" }).click();
  await expect(page.getByTestId("signup-preview")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Pay and join" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "You are in" })).toBeVisible();

  const staff = await (await browser.newContext()).newPage();
  await signInAs(staff, DEMO.desk);
  await staff.goto(`/members?q=${encodeURIComponent(email)}`);
  await hydrated(staff);
  await expect(staff.getByTestId("members").getByRole("row").nth(1)).toContainText("Student");
});
