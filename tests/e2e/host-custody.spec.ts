// Credential custody as an operator sees it (docs/security.md "Credential scope"): an edit that
// moves a credentialed host detaches the credential and the host page says so after saving; a CSV
// import that would do the same says so per row in the preview, before anything is imported.
// 192.0.2.0/24 (TEST-NET-1) is data only: nothing here scans, audits or connects to a host.
import { expect, test, type Page } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { addCredential, addUser, shot, signIn, signOut, unique } from "./helpers";

const HEADER = "name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints";

async function createHost(page: Page, name: string, address: string, credentialName: string): Promise<string> {
  const origin = new URL(page.url()).origin;
  const res = await page.request.post("/api/v1/hosts", {
    headers: { origin, "content-type": "application/json" },
    data: { name, address, platform: "linux", roles: ["postfix"], transport: "ssh", port: 22, credentialName, endpoints: "25/smtp" },
  });
  expect(res.status(), await res.text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

test("an operator's edit and import that move a credentialed host say the credential is detached and an admin must attach it again", async ({ page }) => {
  const u = `e2e${unique()}`;
  const operator = { email: `op-${u}@example.test`, password: "operator-password-1" };
  const credential = `${u}-root`;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await addCredential(page, { name: credential, kind: "ssh_password", username: "root", secret: "never-sent-anywhere", scope: ["192.0.2.0/24"] });
  const editedId = await createHost(page, `${u}-edited.example.test`, "192.0.2.20", credential);
  await createHost(page, `${u}-imported.example.test`, "192.0.2.30", credential);

  await addUser(page, operator.email, "operator", operator.password);
  await signOut(page);

  // ---- the host form: another address detaches the credential, and the host page says so
  await signIn(page, operator.email, operator.password);
  await page.goto(`/hosts/${editedId}/edit`);
  await page.getByLabel("Address (DNS name or IP)").fill("192.0.2.21");
  await page.getByRole("button", { name: "Save host" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${editedId}\\?saved=credential-detached$`));
  const notice = page.getByTestId("credential-detached");
  await expect(notice).toContainText("This host no longer has a credential");
  await expect(notice).toContainText("An admin must attach a credential again on the edit page");
  await expect(page.getByTestId("host-identity")).toContainText("192.0.2.21");
  await shot(page, "host-custody-credential-detached");
  // An edit that keeps the credential says nothing of the kind.
  await page.goto(`/hosts/${editedId}/edit`);
  await page.getByLabel("Owner").fill("mail team");
  await page.getByRole("button", { name: "Save host" }).click();
  await expect(page).toHaveURL(new RegExp(`/hosts/${editedId}$`));
  await expect(page.getByTestId("host-identity")).toContainText("mail team");
  await expect(page.getByTestId("credential-detached")).toHaveCount(0);

  // ---- the import preview: the row that moves a credentialed host is a warning, before the commit
  await page.goto("/hosts/import");
  const lines = [HEADER, `${u}-imported.example.test,192.0.2.30,linux,postfix,,,,ssh,2222,${credential},25/smtp`];
  await page.getByLabel("CSV file").setInputFiles({ name: "move.csv", mimeType: "text/csv", buffer: Buffer.from(lines.join("\r\n") + "\r\n") });
  const warning = page.getByTestId("import-warning");
  await expect(warning).toHaveCount(1);
  await expect(warning).toContainText(`The credential "${credential}" will be detached from ${u}-imported.example.test: this row changes its port 22 -> 2222`);
  await expect(warning).toContainText("After the import an admin attaches it again on the host's edit page");
  await expect(page.getByTestId("import-summary")).toContainText("Ready: 0 new, 1 to update");
  await shot(page, "host-custody-import-preview");
  await page.getByRole("button", { name: "Import 1 host" }).click();
  await expect(page.getByTestId("import-credentials-dropped")).toContainText("1 host no longer has its credential");
});
