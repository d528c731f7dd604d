import { type Browser, expect, type Locator, type Page } from "@playwright/test";

export const DEMO = {
  owner: "owner@harbour.example",
  manager: "manager@harbour.example",
  desk: "desk@harbour.example",
  viewer: "viewer@harbour.example",
  password: "harbour-demo-2026",
};

/** Waits until the WebAssembly has hydrated the page (set by an effect, which runs only in the browser). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export class SignInPage {
  constructor(private readonly page: Page) {}

  async goto(): Promise<void> {
    await this.page.goto("/sign-in");
    await hydrated(this.page);
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  alert(): Locator {
    return this.page.getByRole("alert").filter({ hasText: /./ });
  }
}

export interface NewType {
  name: string;
  purchaseType?: "Recurring" | "Prepaid" | "Benefit";
  interval?: string;
  fee: string;
  status?: "Draft" | "Active";
}

export class MembershipTypesPage {
  constructor(private readonly page: Page) {}

  async goto(): Promise<void> {
    await this.page.goto("/membership-types");
    await hydrated(this.page);
  }

  async create(t: NewType): Promise<void> {
    const form = this.page.getByRole("region", { name: "New membership type" });
    await form.getByLabel("Name").fill(t.name);
    await form.getByLabel("Purchase type").selectOption({ label: t.purchaseType ?? "Recurring" });
    if ((t.purchaseType ?? "Recurring") === "Recurring") {
      await form.getByLabel("Billing interval").selectOption({ label: t.interval ?? "Monthly" });
    }
    await form.getByLabel("Fee").fill(t.fee);
    await form.getByLabel("Status").selectOption({ label: t.status ?? "Active" });
    await form.getByRole("button", { name: "Create type" }).click();
  }

  row(name: string): Locator {
    return this.page.getByTestId("membership-types").getByRole("row").filter({ has: this.page.getByRole("rowheader", { name, exact: true }) });
  }

  feeField(): Locator {
    return this.page.getByRole("region", { name: "New membership type" }).getByLabel("Fee");
  }

  feeError(): Locator {
    return this.page.locator("#fee-error");
  }
}

export async function signInAs(page: Page, email: string): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(email, DEMO.password);
  await expect(page.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible();
}

/** A name no other test run used, so tests need no cleanup and never collide. */
export function unique(prefix: string): string {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** `date` (YYYY-MM-DD) moved by `days`, in calendar days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export async function newMember(page: Page): Promise<string> {
  await page.goto("/members/new");
  await hydrated(page);
  const last = unique("Sale").replace(/\s+/g, "");
  await page.getByLabel("First name").fill("Mara");
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Email").fill(`mara.${last.toLowerCase()}@example.com`);
  await page.getByLabel("Member type").selectOption("Adult");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(`Mara ${last}`) })).toBeVisible();
  return last;
}


/** The newest sign-in code mailed to `email`, read by the owner from the mail outbox in a browser of their own. */
export async function mailedCode(
  browser: Browser,
  email: string,
  { subject = "Your sign-in code", owner = DEMO.owner }: { subject?: string; owner?: string } = {},
): Promise<string> {
  const context = await browser.newContext();
  try {
    const staff = await context.newPage();
    await signInAs(staff, owner);
    await staff.goto("/billing");
    const summary = staff
      .getByTestId("outbox")
      .locator("summary")
      .filter({ hasText: `to ${email}` })
      .filter({ hasText: subject })
      .first();
    const text = (await summary.textContent()) ?? "";
    const found = /: (\d{6})/.exec(text);
    if (!found) throw new Error(`no sign-in code for ${email} in "${text}"`);
    return found[1];
  } finally {
    await context.close();
  }
}

/** Signs a member in to the portal with the code from the outbox; lands on the portal's home. */
export async function portalSignIn(page: Page, browser: Browser, email: string): Promise<void> {
  await page.goto("/portal/sign-in");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page.getByRole("status")).toContainText(email);
  const code = await mailedCode(browser, email);
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Hello, / })).toBeVisible();
  await hydrated(page);
}

/** On a member's page: sells Adult Monthly from today and lands on the membership's page. */
export async function sellAdultMonthly(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Sell a membership" }).click();
  await hydrated(page);
  await page.getByLabel("Membership type").selectOption({ label: "Adult Monthly — €59.00 monthly" });
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Confirm sale" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Adult Monthly/ })).toBeVisible();
  await hydrated(page);
}

/** A new member with Adult Monthly sold by the front desk today; returns their email. */
export async function newMemberWithAdultMonthly(page: Page): Promise<string> {
  await signInAs(page, DEMO.desk);
  const last = await newMember(page);
  await sellAdultMonthly(page);
  return `mara.${last.toLowerCase()}@example.com`;
}
