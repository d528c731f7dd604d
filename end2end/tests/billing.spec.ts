import { expect, test, type Page } from "@playwright/test";
import { DEMO, MembershipTypesPage, addDays, hydrated, newMember, signInAs, unique } from "./pages";

async function setClock(page: Page, date: string): Promise<void> {
  await page.goto("/settings/clock");
  await hydrated(page);
  await page.getByLabel("Simulated date").fill(date);
  await page.getByRole("button", { name: "Save" }).click();
  const expected = date === "" ? /real date/ : new RegExp(`simulated date: ${date}`);
  await expect(page.getByTestId("clock-status")).toHaveText(expected);
}

async function keepCard(page: Page, number: string, ending: string): Promise<void> {
  const billing = page.getByRole("region", { name: "Billing" });
  await billing.locator("summary").click();
  await billing.getByLabel("Card number").fill(number);
  await billing.getByLabel("Expiry (MM/YY)").fill("12/30");
  await billing.getByRole("button", { name: "Keep this card on file" }).click();
  await expect(billing.getByTestId("card-on-file")).toContainText(`ending ${ending}`);
}

test("a card pays the first invoice, a declined card makes the membership past due, a payment at the desk restores it", async ({ page }) => {
  await signInAs(page, DEMO.owner);
  const last = await newMember(page);
  await hydrated(page);
  const memberUrl = page.url();

  // A card is refused with a reason before anything is kept.
  const billing = page.getByRole("region", { name: "Billing" });
  await billing.locator("summary").click();
  await billing.getByLabel("Card number").fill("4242 4242 4242 4241");
  await billing.getByLabel("Expiry (MM/YY)").fill("12/30");
  await billing.getByRole("button", { name: "Keep this card on file" }).click();
  await expect(billing.getByText(/not a valid card number/)).toBeVisible();

  // Sell a monthly membership; its first invoice is open.
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: "Adult Monthly — €59.00 monthly" });
  const today = await page.getByLabel("Start date").inputValue();
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-total")).toHaveText("€84.00");
  await page.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Adult Monthly/ })).toBeVisible();
  const membershipUrl = page.url();
  await page.getByTestId("invoices").getByRole("link").first().click();
  await hydrated(page);
  await expect(page.getByTestId("invoice-total")).toHaveText("€84.00");
  await expect(page.getByTestId("invoice-status")).toHaveText("Open");

  // Pay it with the sandbox card kept on file.
  await page.goto(memberUrl);
  await hydrated(page);
  await keepCard(page, "4242 4242 4242 4242", "4242");
  await page.goto(membershipUrl);
  await page.getByTestId("invoices").getByRole("link").first().click();
  await hydrated(page);
  // The server's once-a-minute collection may charge the card on file first;
  // either way the invoice ends paid by the card, once.
  const charge = page.getByRole("button", { name: "Charge €84.00 to the card" });
  if (await charge.isVisible()) {
    await charge.click();
    // Charged, the button goes; refused as already paid, it stays until the reload.
    await expect(charge).toBeHidden({ timeout: 5_000 }).catch(() => undefined);
  }
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("invoice-status")).toHaveText("Paid");
  await expect(page.getByTestId("payments")).toContainText("Card on file");

  // From now on the card declines; five weeks later the second invoice is unpaid.
  await page.goto(memberUrl);
  await hydrated(page);
  await keepCard(page, "4000 0000 0000 0002", "0002");
  try {
    await setClock(page, addDays(today, 35));
    await page.goto(membershipUrl);
    await expect(page.getByTestId("membership-status")).toContainText("Past due");
    const invoices = page.getByTestId("invoices");
    await expect(invoices.getByRole("row")).toHaveCount(3); // the header and two invoices
    await expect(page.getByText(/failed on .*: the card was declined/).first()).toBeVisible();

    // The dunning list names it; the invoice list finds it among the overdue.
    await page.goto("/billing");
    await expect(page.getByTestId("dunning")).toContainText(last);
    await page.goto("/invoices?form[status]=overdue");
    const overdue = page.getByTestId("invoices").getByRole("row", { name: new RegExp(last) });
    await expect(overdue).toHaveCount(1);
    await overdue.getByRole("link").first().click();
    await hydrated(page);
    await expect(page.getByTestId("payments")).toContainText("failed: the card was declined");

    // Paid in cash at the desk: restored at once.
    const pay = page.getByRole("region", { name: "Record a payment" });
    await pay.getByLabel("Paid by").selectOption({ label: "Cash" });
    await pay.getByRole("button", { name: "Record payment" }).click();
    await expect(page.getByTestId("invoice-status")).toHaveText("Paid");
    await expect(page.getByTestId("invoice-due")).toHaveText("€0.00");

    // A refund above what was paid is refused; a part of it goes back.
    const payments = page.getByTestId("payments");
    const refund = payments.locator("details").filter({ hasText: "Refund" }).first();
    await refund.locator("summary").click();
    await refund.getByLabel(/Amount/).fill("100000");
    await refund.getByLabel("Reason").fill("goodwill");
    await refund.getByRole("button", { name: "Confirm: refund" }).click();
    await expect(refund.getByText("at most €59.00 can be refunded: €59.00 was paid and €0.00 refunded before")).toBeVisible();
    await refund.getByLabel(/Amount/).fill("5");
    await refund.getByRole("button", { name: "Confirm: refund" }).click();
    await expect(payments).toContainText(/€5\.00 on \d{4}-\d{2}-\d{2}: goodwill/);
    await page.goto(membershipUrl);
    await expect(page.getByTestId("membership-status")).toContainText("Active");
    await expect(page.getByText(/Restored on \d{4}-\d{2}-\d{2}: the balance is paid/)).toBeVisible();
  } finally {
    await setClock(page, "");
  }
});

test("moving a membership to a new price now, and giving a free month, preview the exact lines billing then writes", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  const types = new MembershipTypesPage(page);
  await types.goto();
  const name = unique("Pilates");
  await types.create({ name, fee: "30" });
  await page.getByRole("link", { name }).click();
  await hydrated(page);
  await page.getByText("Change the price from a date").click();
  await page.getByLabel("New fee").fill("45");
  await page.getByLabel("Effective from").fill(addDays(new Date().toISOString().slice(0, 10), 30));
  await page.getByRole("button", { name: "Add price version" }).click();
  await expect(page.getByTestId("price-versions").getByRole("row")).toHaveCount(3);

  await newMember(page);
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: `${name} — €30.00 monthly` });
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();
  await hydrated(page);

  const box = page.getByTestId("action-change_price");
  await box.locator("summary").click();
  const version = box.locator("option", { hasText: "€45.00" });
  await box.getByLabel("Price version", { exact: true }).selectOption(await version.getAttribute("value") ?? "");
  await box.getByLabel("Takes effect", { exact: true }).selectOption("now");
  await box.getByLabel("Reason", { exact: true }).fill("moved to the small-group class");
  await box.getByRole("button", { name: "Preview: move to a price version" }).click();
  const preview = page.getByTestId("billing-preview");
  await expect(preview).toContainText("Correction");
  const total = await page.getByTestId("billing-preview-total").innerText();
  expect(total).toBe("€15.00");
  await page.getByRole("button", { name: "Confirm: move to a price version" }).click();
  await expect(page.getByTestId("status-why")).toBeVisible();
  // The page shows the change's invoice once it has re-rendered; open it then.
  await expect(page.getByTestId("invoices").getByRole("row").nth(1)).toContainText(total);
  await page.getByTestId("invoices").getByRole("link").first().click();
  await hydrated(page);
  await expect(page.getByTestId("invoice-total")).toHaveText(total);
  await expect(page.getByTestId("invoice-lines")).toContainText("Correction");

  // A free month: previewed as the zero line billing will write, then on the timeline.
  await page.goBack();
  await hydrated(page);
  const free = page.getByTestId("action-free_periods");
  await free.locator("summary").click();
  await free.getByLabel("Free periods", { exact: true }).fill("1");
  await free.getByLabel("Reason", { exact: true }).fill("studio closed for a week of works");
  await free.getByRole("button", { name: "Preview: give free periods" }).click();
  await expect(page.getByTestId("billing-preview")).toContainText("given free: studio closed for a week of works");
  await expect(page.getByTestId("billing-preview-total")).toHaveText("€0.00");
  await page.getByRole("button", { name: "Confirm: give free periods" }).click();
  await expect(page.getByText(/^1 free period from /)).toBeVisible();
});

test("a new billing date and a new billing cycle preview their bridging lines; a manager runs billing and watches it finish", async ({ page }) => {
  await signInAs(page, DEMO.manager);
  const types = new MembershipTypesPage(page);
  await types.goto();
  const monthly = unique("Swim");
  await types.create({ name: monthly, fee: "30" });
  await expect(types.row(monthly)).toHaveCount(1);
  const yearly = `${monthly} Yearly`;
  await types.create({ name: yearly, interval: "Yearly", fee: "300" });
  await expect(types.row(yearly)).toHaveCount(1);

  const sell = async () => {
    await newMember(page);
    await page.getByRole("link", { name: "Sell a membership" }).click();
    await hydrated(page);
    await page.getByLabel("Membership type").selectOption({ label: `${monthly} — €30.00 monthly` });
    const start = await page.getByLabel("Start date").inputValue();
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByRole("button", { name: "Confirm sale" }).click();
    await expect(page.getByRole("heading", { level: 1, name: new RegExp(monthly) })).toBeVisible();
    await hydrated(page);
    return start;
  };

  // Billed from today; moved to ten days from now, the first period is cut
  // short there and prorated.
  const today = await sell();
  const move = page.getByTestId("action-change_billing_date");
  await move.locator("summary").click();
  await move.getByLabel("New billing date", { exact: true }).fill(addDays(today, 10));
  await move.getByLabel("Bridging period", { exact: true }).selectOption("yes");
  await move.getByLabel("Reason", { exact: true }).fill("paid on the 10th");
  await move.getByRole("button", { name: "Preview: change billing date" }).click();
  await expect(page.getByTestId("action-effect")).toContainText(
    `The bridging period from ${today} to ${addDays(today, 9)} (10 days) is prorated by its days.`,
  );
  await expect(page.getByTestId("billing-preview")).toContainText("Correction");
  await page.getByRole("button", { name: "Confirm: change billing date" }).click();
  await expect(page.getByText(`Billing date moved to ${addDays(today, 10)}; the bridging period is prorated`)).toBeVisible();
  await expect(page.getByTestId("next-billing")).toHaveText(addDays(today, 10));

  // Another member switches to the yearly plan in five days: the unused days
  // of the month are credited and the yearly fee is charged from then.
  await sell();
  const on = addDays(today, 5);
  const sw = page.getByTestId("action-switch_cycle");
  await sw.locator("summary").click();
  await sw.getByLabel("New type and cycle", { exact: true }).selectOption({ label: `${yearly} (yearly)` });
  await sw.getByLabel("New cycle starts on", { exact: true }).fill(on);
  await sw.getByRole("button", { name: "Preview: switch billing cycle" }).click();
  await expect(page.getByTestId("action-effect")).toContainText(`From ${on} the membership is ${yearly}, billed €300.00 yearly from ${on}. The unused days of the current period, ${on} to`);
  const preview = page.getByTestId("billing-preview");
  await expect(preview).toContainText("Correction");
  await expect(preview).toContainText("€300.00");
  await page.getByRole("button", { name: "Confirm: switch billing cycle" }).click();
  await expect(page.getByText(`Switched to ${yearly}, billed yearly from ${on}`)).toBeVisible();

  // A billing run started by hand, watched until it is done.
  await page.goto("/billing/runs");
  await hydrated(page);
  // The scheduler records runs of its own every minute, so the manager's is
  // found by name (the newest of the manager's), not by position.
  const mine = page.getByTestId("billing-run").filter({ hasText: "Max Manager" });
  const before = await mine.count();
  await page.getByRole("button", { name: "Start a billing run" }).click();
  await expect(mine).toHaveCount(before + 1);
  const run = mine.first();
  await expect(run.getByTestId("run-state")).toContainText("finished", { timeout: 30_000 });
});

test("the invoice list shows how many there are and pages through them with next and previous", async ({ page }) => {
  await signInAs(page, DEMO.owner);
  await page.goto("/invoices");
  await hydrated(page);
  const pager = page.getByRole("navigation", { name: "Pages of invoices" });
  await expect(pager.getByTestId("pager-range")).toHaveText(/^Showing 1–100 of [\d,]+$/);
  await expect(page.getByTestId("invoices").locator("tbody tr")).toHaveCount(100);
  const first = await page.getByTestId("invoices").locator("tbody tr").first().textContent();
  await pager.getByRole("link", { name: "Next →" }).click();
  await expect(page).toHaveURL(/form%5Bpage%5D=2|form\[page\]=2/);
  await expect(pager.getByTestId("pager-range")).toHaveText(/^Showing 101–[\d,]+ of [\d,]+$/);
  await expect(page.getByTestId("invoices").locator("tbody tr").first()).not.toHaveText(first ?? "");
  await pager.getByRole("link", { name: "← Previous" }).click();
  await expect(pager.getByTestId("pager-range")).toHaveText(/^Showing 1–100 of/);

  // The filters travel with the pages; a filter that matches little has one page.
  await page.goto("/invoices?form[status]=overdue");
  await expect(pager.getByText(/^Page 1 of 1$/)).toBeVisible();
  await expect(pager.getByRole("link", { name: "Next →" })).toHaveCount(0);
});
