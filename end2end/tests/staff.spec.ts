import { expect, test } from "@playwright/test";
import { DEMO, MembershipTypesPage, SignInPage, hydrated, signInAs, unique } from "./pages";

test("a wrong password is refused with one generic message", async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(DEMO.owner, "not the password");
  await expect(signIn.alert()).toHaveText("That email and password do not match an active account.");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the dashboard shows real counts from the database", async ({ page }) => {
  await signInAs(page, DEMO.owner);
  await expect(page.getByTestId("count-members")).toContainText(/\d+\s*Members/);
  await expect(page.getByTestId("count-membership-types")).toContainText("Membership types");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
});

test("a manager creates a membership type and sees it listed after a reload", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  const types = new MembershipTypesPage(page);
  await types.goto();
  const name = unique("Aqua Monthly");
  await types.create({ name, fee: "45,50", interval: "Monthly" });
  await expect(page.getByRole("status").filter({ hasText: `Created ${name}.` })).toBeVisible();
  await expect(types.row(name)).toContainText("€45.50 monthly");

  await page.reload();
  await hydrated(page);
  await expect(types.row(name)).toContainText("€45.50 monthly");
  await expect(types.row(name)).toContainText("Active");
});

test("an invalid fee is answered next to the fee field and nothing is created", async ({ page }) => {
  await signInAs(page, DEMO.owner);
  const types = new MembershipTypesPage(page);
  await types.goto();
  const name = unique("Broken Fee");
  await types.create({ name, fee: "12.345" });
  await expect(types.feeError()).toHaveText("EUR amounts have at most 2 decimal places");
  await expect(types.feeField()).toHaveAttribute("aria-invalid", "true");
  await expect(types.row(name)).toHaveCount(0);

  await types.feeField().fill("12.34");
  await page.getByRole("button", { name: "Create type" }).click();
  await expect(types.row(name)).toContainText("€12.34 monthly");
  await expect(types.feeError()).toBeEmpty();
});

test("a viewer sees the types but no form to create one", async ({ page }) => {
  await signInAs(page, DEMO.viewer);
  const types = new MembershipTypesPage(page);
  await types.goto();
  await expect(types.row("Adult Monthly")).toBeVisible();
  await expect(page.getByRole("region", { name: "New membership type" })).toHaveCount(0);
});

test("signing out returns to the sign-in page and staff pages need a session again", async ({ page }) => {
  await signInAs(page, DEMO.owner);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/membership-types");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the member portal renders with its landmarks and asks a visitor to sign in", async ({ page }) => {
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/portal\/sign-in$/);
  await hydrated(page);
  await expect(page.getByRole("banner")).toContainText("Member portal");
  await expect(page.getByRole("main").getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeAttached();
});

test("a manager adds a location and its public page opens", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Locations" }).click();
  await hydrated(page);
  const name = unique("Dockside");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Address").fill("7 Dock Road");
  await page.getByRole("button", { name: "Add location" }).click();
  const row = page.getByTestId("locations").getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("7 Dock Road");
  await row.getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1, name: `Join us at ${name}` })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name: "Adult Monthly" })).toBeVisible();
});
