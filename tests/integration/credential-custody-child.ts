// One side of credential-custody.test.ts, run in its own process with the environment
// `tlsfleet start` gives its web or its worker process (lib/credentials/key-files.ts
// processEnvironments). Run as `node --conditions=react-server --import tsx <this file> <action> ...`:
//   seal <name> <secret>   creates the credential, then tries to open it; prints JSON
//   open <credentialId>    opens it; prints JSON
import { createCredential, CredentialInput, secretForWorker } from "../../lib/credentials/service";
import { disconnectPrisma } from "../../lib/db";

const actor = { id: "00000000-0000-4000-8000-00000000c057", email: "custody-admin@example.test" };

async function main(): Promise<unknown> {
  const [action, a, b] = process.argv.slice(2);
  if (action === "seal") {
    const { id } = await createCredential(actor, CredentialInput.parse({ name: a, kind: "ssh_password", username: "svc-tls", secret: b }));
    const opened = await secretForWorker(id).then(
      (s) => ({ ok: true as const, secret: s.secret }),
      (e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }),
    );
    return { id, opened };
  }
  if (action === "open") return { secret: (await secretForWorker(a)).secret };
  throw new Error(`unknown action ${action}`);
}

main()
  .then((result) => process.stdout.write(JSON.stringify(result) + "\n"))
  .catch((e: unknown) => {
    process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + "\n");
    process.exitCode = 1;
  })
  .finally(() => void disconnectPrisma());
