import { expect, test, type Page } from "@playwright/test";
import { DEMO, addDays, hydrated, newMember, signInAs, unique } from "./pages";

/** Opens an action's small form (retrying while the page settles after a change). */
async function openAction(page: Page, action: string): Promise<ReturnType<Page["getByTestId"]>> {
  const box = page.getByTestId(`action-${action}`);
  await expect(async () => {
    if (!(await box.evaluate((e) => (e as HTMLDetailsElement).open))) {
      await box.locator("summary").click();
    }
    await expect(box.getByRole("button", { name: /^Preview:/ })).toBeVisible({ timeout: 1000 });
  }).toPass();
  return box;
}

test("front desk sells with a preview, pauses within policy, is told why a long pause is refused, cancels and reactivates", async ({ page }) => {
  await signInAs(page, "desk@harbour.example");
  await newMember(page);

  // Sell: the preview shows the first invoice before anything is saved.
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: "Adult Monthly — €59.00 monthly" });
  const today = await page.getByLabel("Start date").inputValue();
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByTestId("sale-preview");
  // As the invoice will show them: the initiation fee first.
  await expect(preview.getByRole("rowheader").first()).toHaveText("Initiation fee");
  await expect(preview.getByRole("rowheader").nth(1)).toHaveText(/^Adult Monthly, \d{1,2}( \w{3}( \d{4})? – \d{1,2}| ?–\d{1,2}) \w{3} \d{4}$/);
  await expect(page.getByTestId("preview-total")).toHaveText("€84.00");
  await expect(page.getByTestId("first-billing")).toHaveText(today);
  await page.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Adult Monthly/ })).toBeVisible();
  await expect(page.getByTestId("membership-status")).toContainText("Active");
  await expect(page.getByTestId("status-why")).toContainText(`active since ${today}`);
  await hydrated(page);

  // A pause over the type's maximum is refused, and the refusal says what is allowed.
  let pause = await openAction(page, "pause");
  await pause.getByLabel("Resume on (optional)").fill(addDays(today, 90));
  await pause.getByLabel("Reason").fill("long trip");
  await pause.getByRole("button", { name: "Preview: pause" }).click();
  await expect(page.getByTestId("action-refused")).toContainText(
    `Pauses of Adult Monthly last at most 60 days: the latest resume date is ${addDays(today, 60)}.`,
  );

  // Within policy: previewed, confirmed, paused with its reason.
  await page.getByRole("link", { name: "Back to the membership" }).click();
  await hydrated(page);
  pause = await openAction(page, "pause");
  await pause.getByLabel("Resume on (optional)").fill(addDays(today, 20));
  await pause.getByLabel("Reason").fill("injury");
  await pause.getByRole("button", { name: "Preview: pause" }).click();
  await expect(page.getByTestId("action-effect")).toHaveText(
    `Paused from ${today}; resumes by itself on ${addDays(today, 20)} (20 days).`,
  );
  await page.getByRole("button", { name: "Confirm: pause" }).click();
  await expect(page.getByTestId("status-why")).toHaveText(
    `paused ${today} until ${addDays(today, 20)} by Dana Desk (front desk): injury`,
  );
  await hydrated(page);

  // Resume now, then cancel: the commitment refuses the period end, the earliest date works.
  const resume = await openAction(page, "resume");
  await resume.getByRole("button", { name: "Preview: resume" }).click();
  await page.getByRole("button", { name: "Confirm: resume" }).click();
  await expect(page.getByTestId("membership-status")).toContainText("Active");
  await hydrated(page);

  let cancel = await openAction(page, "cancel");
  await cancel.getByLabel("Reason").fill("moving away");
  await cancel.getByRole("button", { name: "Preview: cancel" }).click();
  await expect(page.getByTestId("action-refused")).toContainText("minimum commitment of 3 periods: the earliest allowed last day is");
  await page.getByRole("link", { name: "Back to the membership" }).click();
  await hydrated(page);
  cancel = await openAction(page, "cancel");
  await cancel.getByLabel("Ends").selectOption("earliest");
  await cancel.getByLabel("Reason").fill("moving away");
  await cancel.getByRole("button", { name: "Preview: cancel" }).click();
  await expect(page.getByTestId("action-effect")).toContainText("Stays active through");
  await page.getByRole("button", { name: "Confirm: cancel" }).click();
  await expect(page.getByTestId("membership-status")).toContainText("Cancelling");
  await hydrated(page);

  // Reactivate before the end: the cancellation is taken back, the history stays.
  const again = await openAction(page, "reactivate");
  await again.getByRole("button", { name: "Preview: reactivate" }).click();
  await page.getByRole("button", { name: "Confirm: reactivate" }).click();
  await expect(page.getByTestId("membership-status")).toContainText("Active");
  await expect(page.getByTestId("timeline").getByRole("listitem")).toHaveCount(5);
  await expect(page.getByTestId("timeline")).toContainText("Cancellation undone");
  await expect(page.getByTestId("timeline")).toContainText("Reason: injury");
});

test("the membership list filters by status and a manager sees the approval waiting", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  await page.goto("/memberships?form%5Bstatus%5D=not_approved");
  const table = page.getByTestId("memberships");
  await expect(table.getByRole("rowheader")).toHaveText(["Company Coworking Yearly"]);
  await hydrated(page);
  await table.getByRole("link", { name: "Company Coworking Yearly" }).click();
  await expect(page.getByTestId("membership-status")).toContainText("Not approved");
  await hydrated(page);
  await expect(page.getByTestId("action-approve")).toBeVisible();

  await page.goto("/memberships?form%5Bstatus%5D=paused");
  await expect(page.getByTestId("memberships")).toContainText("knee injury");
});

test("front desk adds a family member to a family membership and removes them again", async ({ page }) => {
  await signInAs(page, "desk@harbour.example");
  const last = await newMember(page);
  const number = (await page.getByRole("heading", { level: 1 }).locator(".muted").innerText()).replace("#", "");
  await page.goto("/memberships?form%5Bstatus%5D=active");
  await hydrated(page);
  await page.getByTestId("memberships").getByRole("link", { name: "Family Quarterly" }).first().click();
  const family = page.getByTestId("family");
  await expect(family).toBeVisible();
  await hydrated(page);
  await family.getByLabel("Member number to add").fill(number);
  await family.getByRole("button", { name: "Add family member" }).click();
  await expect(family.getByRole("link", { name: `Mara ${last}` })).toBeVisible();
  await expect(page.getByTestId("timeline")).toContainText(`Mara ${last} joined as a family member`);
  await hydrated(page);
  await family.getByRole("button", { name: `Remove Mara ${last}` }).click();
  await expect(family.getByRole("link", { name: `Mara ${last}` })).toHaveCount(0);
  await expect(page.getByTestId("timeline")).toContainText(`Mara ${last} left as a family member`);
});

test("a manager merges a duplicate member and the duplicate points to the kept record", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  const last = await newMember(page);
  const keptUrl = page.url();
  await page.goto("/members/new");
  await hydrated(page);
  await page.getByLabel("First name").fill("Mara");
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Phone").fill("+49 40 1112223");
  await page.getByRole("button", { name: "Add member" }).click();
  const heading = page.getByRole("heading", { level: 1, name: new RegExp(`Mara ${last}`) });
  await expect(heading).toBeVisible();
  const duplicate = (await heading.locator(".muted").innerText()).replace("#", "");
  const duplicateUrl = page.url();

  await page.goto(keptUrl);
  await hydrated(page);
  await page.getByText("Merge a duplicate").click();
  await page.getByLabel("Member number of the duplicate").fill(duplicate);
  await page.getByRole("button", { name: "Confirm: merge into this member" }).click();
  await expect(page.getByRole("region", { name: "Profile" })).toContainText("+49 40 1112223");

  await page.goto(duplicateUrl);
  await expect(page.getByTestId("member-status")).toHaveText("Archived");
  await expect(page.getByRole("note")).toContainText("This record was merged into");
});

test("a paused membership's invoice explains its paused days line by line", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  await page.goto("/memberships?form%5Bstatus%5D=paused");
  await hydrated(page);
  await page.getByTestId("memberships").getByRole("link", { name: "Adult Monthly" }).first().click();
  const invoices = page.getByTestId("invoices");
  await expect(invoices).toBeVisible();
  const membershipUrl = page.url();
  // One of the newest invoices covers the period the pause falls in (later
  // periods may be billed already when another test moved the clock ahead):
  // its paused days are billed at the pause fee, on a line of their own.
  const count = Math.min(await invoices.getByRole("link").count(), 4);
  let found = false;
  for (let i = 0; i < count && !found; i++) {
    await page.goto(membershipUrl);
    await page.getByTestId("invoices").getByRole("link").nth(i).click();
    await expect(page.getByRole("heading", { level: 1, name: /^(Invoice|Credit note) #\d+$/ })).toBeVisible();
    found = (await page.getByTestId("invoice-lines").innerText()).includes("Pause fee (");
  }
  expect(found).toBe(true);
  await expect(page.getByTestId("invoice-lines")).toContainText("Pause fee (Adult Monthly), ");
  // (A pause that began mid-period credits its days: the total may be negative.)
  await expect(page.getByTestId("invoice-total")).toHaveText(/^-?€\d+\.\d\d$/);
});
