import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { DEMO, hydrated, signInAs, unique } from "./pages";

/** An owner's key for members (made in the staff app, as an integrator would). */
async function membersKey(page: Page): Promise<string> {
  await page.goto("/settings/api-keys");
  await hydrated(page);
  const form = page.getByRole("region", { name: "New key" });
  await form.getByLabel("Name").fill(unique("Bulk import"));
  await form.getByLabel(/^Read members and memberships/).check();
  await form.getByLabel(/^Create and change members/).check();
  await form.getByRole("button", { name: "Make the key" }).click();
  return await page.getByTestId("new-key").getByLabel("Key").inputValue();
}

/** `n` organizations named `prefix 0001` and on, five requests at a time (gentle on the
 * server the other tests share). */
async function addOrganizations(request: APIRequestContext, key: string, prefix: string, n: number) {
  const headers = { Authorization: `Bearer ${key}` };
  for (let start = 0; start < n; start += 5) {
    const batch = [];
    for (let i = start; i < Math.min(n, start + 5); i++) {
      const name = `${prefix} ${String(i + 1).padStart(4, "0")}`;
      batch.push(request.post("/api/v1/organizations", { headers, data: { name } }));
    }
    for (const answer of await Promise.all(batch)) {
      expect(answer.status(), await answer.text()).toBe(201);
    }
  }
}

test("the organizations list pages past row 500 with next and previous, each row once", async ({ page, request }) => {
  test.setTimeout(120_000);
  await signInAs(page, DEMO.owner);
  const key = await membersKey(page);
  // "Zz" sorts after the demo's organizations (and other tests' own).
  const prefix = unique("Zz Paging");
  await addOrganizations(request, key, prefix, 520);

  await page.goto("/organizations");
  await hydrated(page);
  const pager = page.getByRole("navigation", { name: "Pages of organizations" });
  const rows = page.getByTestId("organizations").locator("tbody tr");
  await expect(pager.getByTestId("pager-range")).toHaveText(/^Showing 1–100 of [\d,]+$/);
  const total = Number((await pager.getByTestId("pager-range").textContent())!.replace(/^.* of /, "").replace(/,/g, ""));
  expect(total).toBeGreaterThanOrEqual(520);
  await expect(rows).toHaveCount(100);

  // Next, five times: rows 501–600 (or to the end).
  const seen = new Set<string>();
  for (let n = 2; n <= 6; n++) {
    await pager.getByRole("link", { name: "Next →" }).click();
    await expect(page).toHaveURL(new RegExp(`form%5Bpage%5D=${n}|form\\[page\\]=${n}`));
    const first = (n - 1) * 100 + 1;
    await expect(pager.getByTestId("pager-range")).toHaveText(
      new RegExp(`^Showing ${first.toLocaleString("en-US")}–[\\d,]+ of ${total.toLocaleString("en-US")}$`),
    );
    for (const name of await rows.getByRole("rowheader").allTextContents()) {
      expect(seen.has(name), `${name} appears on one page only`).toBe(false);
      seen.add(name);
    }
  }
  await expect(rows.first()).toContainText("Zz Paging");
  await expect(pager.getByText(/^Page 6 of \d+$/)).toBeVisible();

  // And back.
  await pager.getByRole("link", { name: "← Previous" }).click();
  await expect(pager.getByTestId("pager-range")).toHaveText(/^Showing 401–500 of /);
  await expect(rows).toHaveCount(100);
});

test("the members list shows everyone by name a page at a time when nothing is searched for", async ({ page }) => {
  await signInAs(page, DEMO.desk);
  await page.goto("/members");
  await hydrated(page);
  const pager = page.getByRole("navigation", { name: "Pages of members" });
  await expect(pager.getByTestId("pager-range")).toHaveText(/^Showing 1–[\d,]+ of [\d,]+$/);
  await expect(page.getByTestId("members").getByRole("rowheader").first()).toBeVisible();
  // A search shows its matches, without the pager.
  await page.getByLabel("Name, email, phone or member number").fill("Quinn");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("members").getByRole("rowheader").first()).toContainText("Quinn");
  await expect(pager).toHaveCount(0);
});
