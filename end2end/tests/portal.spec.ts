import { expect, test } from "@playwright/test";
import { addDays, hydrated, mailedCode, newMemberWithAdultMonthly, portalSignIn } from "./pages";

// Each project signs in as its own demo member, so the per-email code limit
// (three per 15 minutes) is never reached by the suite.
const members = {
  desktop: { email: "ben.carter@example.com", first: "Ben", type: "Adult Monthly" },
  phone: { email: "amelia.hughes@example.com", first: "Amelia", type: "Student Monthly" },
};

test("a member signs in with the code from the outbox, sees their membership and signs out", async ({ page, browser }, info) => {
  const me = members[info.project.name as keyof typeof members];
  // Not signed in: the portal asks for an email first.
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/portal\/sign-in$/);
  await hydrated(page);
  // A malformed email is answered next to the field.
  await page.getByLabel("Email").fill("not-an-email@");
  await page.getByLabel("Email").evaluate((input: HTMLInputElement) => { input.type = "text"; });
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page.getByText("enter your email address, such as name@example.com")).toBeVisible();

  await page.getByLabel("Email").fill(me.email);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page.getByRole("status")).toContainText(`If ${me.email} belongs to a member, a code is on its way.`);
  const code = await mailedCode(browser, me.email);
  // A wrong code says how many tries are left.
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  await page.getByLabel("Code from the email").fill(wrong);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("That code is not right. You have 4 more tries.")).toBeVisible();
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.getByRole("heading", { level: 1, name: `Hello, ${me.first}` })).toBeVisible();
  const card = page.getByTestId("portal-membership").filter({ has: page.getByRole("heading", { name: me.type, exact: true }) });
  await expect(card).toBeVisible();
  await expect(card.getByTestId("portal-status-why")).not.toBeEmpty();
  await expect(card.getByText("Next billing date")).toBeVisible();

  // The session survives a reload (server-rendered with the cookie) and ends on sign-out.
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: `Hello, ${me.first}` })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  // Back to the sign-in page of the club's own portal.
  await expect(page).toHaveURL(/\/portal\/sign-in\/harbour-athletic-club$/);
  await expect(page.getByText("Member portal of Harbour Athletic Club")).toBeVisible();
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/portal\/sign-in$/);
});

test("the code step works before the WebAssembly arrives", async ({ browser }, info) => {
  const me = members[info.project.name as keyof typeof members];
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/portal/sign-in");
  await page.getByLabel("Email").fill(me.email);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page.getByRole("status")).toContainText(me.email);
  const code = await mailedCode(browser, me.email);
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Hello, ${me.first}` })).toBeVisible();
  await context.close();
});

/** A Wednesday one to two weeks ahead (clear of any time-zone edge). */
function aWednesdayAhead(): string {
  const today = new Date().toISOString().slice(0, 10);
  const dow = new Date(`${today}T12:00:00Z`).getUTCDay(); // 0 = Sunday
  const until = (3 - dow + 7) % 7 || 7;
  return addDays(today, until + 7);
}

test("a member pauses within the policy, and a cancellation inside the commitment is refused with its date", async ({ page, browser }) => {
  const staff = await browser.newContext();
  const email = await newMemberWithAdultMonthly(await staff.newPage());
  await staff.close();

  await portalSignIn(page, browser, email);
  await page.getByRole("link", { name: "Adult Monthly" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Adult Monthly" })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText("You may cancel here, at the end of a billing period, once your first 3 periods are done.")).toBeVisible();

  // Cancelling in the first month: refused, with the date it becomes possible.
  await page.getByText("Cancel at the end of the period").click();
  await page.getByLabel("Why are you leaving? (optional)").fill("moving away");
  await page.getByRole("button", { name: "Preview the cancellation" }).click();
  await expect(page.getByTestId("portal-refusal")).toContainText(/the earliest allowed last day is \d{4}-\d{2}-\d{2}\./);
  await expect(page.getByRole("button", { name: "Confirm" })).toHaveCount(0);
  await page.getByRole("link", { name: "Back" }).click();

  // A two-week pause from today (the form's default): previewed, then confirmed.
  await hydrated(page);
  await page.getByText("Pause", { exact: true }).click();
  const from = await page.getByLabel("From").inputValue();
  const until = addDays(from, 14);
  await page.getByLabel("Back on").fill(until);
  await page.getByRole("button", { name: "Preview the pause" }).click();
  await expect(page.getByTestId("portal-effect")).toHaveText(`Paused from ${from}; resumes by itself on ${until} (14 days).`);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByTestId("portal-status-why")).toContainText(`paused ${from} until ${until}`);
  await expect(page.getByRole("button", { name: "Resume today" })).toBeVisible();
});

test("a member books a class with credits and cancels it inside the window: the credit comes back", async ({ page, browser }) => {
  const staff = await browser.newContext();
  const desk = await staff.newPage();
  const email = await newMemberWithAdultMonthly(desk);
  const credits = desk.getByTestId("credits");
  await credits.getByTestId("adjust-credits").locator("summary").click();
  await credits.getByLabel("Credits (negative to take away)").fill("3");
  await credits.getByLabel("Reason", { exact: true }).fill("class pack bought at the desk");
  await credits.getByRole("button", { name: "Save adjustment" }).click();
  await expect(credits.getByTestId("credit-balance")).toHaveText("3 credits");
  await staff.close();

  await portalSignIn(page, browser, email);
  await page.getByRole("link", { name: "Adult Monthly" }).click();
  await hydrated(page);
  await expect(page.getByTestId("portal-credits")).toHaveText("3");
  await expect(page.getByTestId("portal-credit-history")).toContainText("class pack bought at the desk");
  await page.getByRole("link", { name: "Book a class or service" }).click();
  await hydrated(page);
  await page.getByLabel("Service", { exact: true }).selectOption({ label: "Yoga (12 places · 60 min · 1 credit or €15.00)" });
  const day = aWednesdayAhead();
  await page.getByLabel("Day", { exact: true }).fill(day);
  await page.getByRole("button", { name: "Show times" }).click();
  await page.getByRole("button", { name: "Book 18:00" }).click();
  await expect(page.getByTestId("portal-booked")).toBeVisible();
  await expect(page.getByTestId("portal-book-balance")).toHaveText("2 credits");

  // The booking is on the bookings page; cancelled in time, the credit returns.
  await page.getByRole("link", { name: "Bookings" }).click();
  await hydrated(page);
  const list = page.getByTestId("portal-bookings");
  await expect(list).toContainText("Yoga");
  await expect(list).toContainText("1 credit");
  await list.getByRole("button", { name: "Cancel Yoga" }).click();
  await expect(page.getByTestId("portal-booking-outcome")).toHaveText("Cancelled inside the 12-hour window: 1 credit given back.");
  await expect(list).toContainText("Cancelled");
  await page.getByRole("link", { name: "Home" }).click();
  await expect(page.getByTestId("portal-credits").first()).toHaveText("3");
});

test("a member adds a card and pays an open invoice from the portal", async ({ page, browser }) => {
  const staff = await browser.newContext();
  const email = await newMemberWithAdultMonthly(await staff.newPage());
  await staff.close();

  await portalSignIn(page, browser, email);
  await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Invoices" }).click();
  await hydrated(page);
  await expect(page.getByTestId("portal-card")).toHaveText("No card on file.");
  // A bad number is answered next to the field; a good one is kept (only its last four digits show).
  await page.getByText("Add a card").click();
  await page.getByLabel("Card number").fill("1234 5678");
  await page.getByLabel("Expiry (MM/YY)").fill("12/30");
  await page.getByRole("button", { name: "Keep this card on file" }).click();
  await expect(page.getByText(/this is not a valid card number/)).toBeVisible();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Keep this card on file" }).click();
  await expect(page.getByTestId("portal-card")).toContainText("ending 4242");

  const invoices = page.getByTestId("portal-invoices");
  await expect(invoices).toContainText("€84.00 due");
  await invoices.getByRole("link").first().click();
  await hydrated(page);
  await expect(page.getByTestId("portal-invoice-due")).toHaveText("€84.00");
  await page.getByRole("button", { name: /^Pay €84\.00 with Visa ending 4242/ }).click();
  await expect(page.getByTestId("portal-pay-outcome")).toHaveText("Paid with your card on file. A receipt is on its way.");
  await expect(page.getByTestId("portal-invoice-due")).toHaveText("€0.00");

  // Removing the card leaves none on file.
  await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Invoices" }).click();
  await hydrated(page);
  await page.getByRole("button", { name: "Remove the card" }).click();
  await expect(page.getByTestId("portal-card")).toHaveText("No card on file.");
});

// Each project edits its own demo member, so the runs never meet.
const profiles = {
  desktop: { email: "kira.tanaka@example.com", first: "Kira", last: "Tanaka" },
  phone: { email: "leo.fischer@example.com", first: "Leo", last: "Fischer" },
};

test("a member edits their profile and changes their email with a code sent to the new address", async ({ page, browser }, info) => {
  const me = profiles[info.project.name as keyof typeof profiles];
  await portalSignIn(page, browser, me.email);
  await page.getByRole("link", { name: "Profile" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your profile" })).toBeVisible();
  await hydrated(page);

  // A blank name is refused next to the field; a good form is saved.
  const details = page.getByRole("form", { name: "Your details" });
  await details.getByLabel("First name").fill(" ");
  await details.getByRole("button", { name: "Save my details" }).click();
  await expect(details.getByText("enter a name")).toBeVisible();
  await details.getByLabel("First name").fill(`${me.first}-Marie`);
  await details.getByLabel("Phone (optional)").fill("+49 30 7654321");
  await details.getByLabel("Send me news and offers by email").check();
  await details.getByRole("button", { name: "Save my details" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your details are saved." })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("First name")).toHaveValue(`${me.first}-Marie`);
  await expect(page.getByLabel("Phone (optional)")).toHaveValue("+49 30 7654321");
  await expect(page.getByLabel("Send me news and offers by email")).toBeChecked();
  await hydrated(page);

  // A new email changes only when the code sent to it comes back.
  const newEmail = `${me.first.toLowerCase()}.${info.project.name}@example.net`;
  await page.getByLabel("New email").fill(newEmail);
  await page.getByRole("button", { name: "Send a code to the new address" }).click();
  await expect(page.getByRole("status").filter({ hasText: `We sent a code to ${newEmail}` })).toBeVisible();
  await expect(page.getByTestId("profile-email")).toHaveText(me.email);
  const code = await mailedCode(browser, newEmail, { subject: "Confirm your new email" });
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Confirm the new email" }).click();
  await expect(page.getByTestId("profile-email")).toHaveText(newEmail);
  await expect(page.getByRole("status").filter({ hasText: "Your email address is changed." })).toBeVisible();

  // Still signed in; the staff app shows the new details.
  await page.getByRole("link", { name: "Home" }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Hello, ${me.first}-Marie` })).toBeVisible();
});

test("each business's portal has its own address; a code signs in only at the business that mailed it", async ({ page, browser }) => {
  // At the studio's own address she lands on her studio account.
  await page.goto("/portal/sign-in/lakeside-yoga-studio");
  await expect(page.getByText("Member portal of Lakeside Yoga Studio")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Email").fill("grace.liu@example.com");
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page).toHaveURL(/\/portal\/sign-in\/lakeside-yoga-studio\?email=/);
  const code = await mailedCode(browser, "grace.liu@example.com", { owner: "owner@lakeside.example" });
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Hello, Grace" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText("Lakeside Yoga Studio");
  await expect(page.getByRole("heading", { name: "Unlimited Yoga" })).toBeVisible();
  // The studio's code (which the studio's staff could read in its outbox)
  // does not reach her account at the club.
  await expect(page.getByRole("link", { name: "Switch to another account" })).toHaveCount(0);

  // On the shared page each business mails its own code; the club's signs
  // Isla (a member of both too) in at the club.
  const club = await browser.newContext({ viewport: page.viewportSize() ?? undefined });
  const there = await club.newPage();
  await there.goto("/portal/sign-in");
  await hydrated(there);
  await there.getByLabel("Email").fill("isla.murphy@example.com");
  await there.getByRole("button", { name: "Send me a code" }).click();
  await expect(there.getByRole("status")).toContainText("isla.murphy@example.com");
  await there.getByLabel("Code from the email").fill(await mailedCode(browser, "isla.murphy@example.com"));
  await there.getByRole("button", { name: "Sign in" }).click();
  await expect(there.getByRole("heading", { level: 1, name: "Hello, Isla" })).toBeVisible();
  await expect(there.getByRole("banner")).toContainText("Harbour Athletic Club");
  await club.close();

  // An unknown business's address says so.
  await page.goto("/portal/sign-in/no-such-club");
  await expect(page.getByRole("alert").filter({ hasText: "There is no member portal at this address." })).toBeVisible();
});
