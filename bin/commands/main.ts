// Command table for `tlsfleet`. Each subcommand lives in its own module and is loaded
// lazily so `tlsfleet probe` never pulls in Prisma or Next.
type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  probe: { summary: "probe TLS versions on endpoints (no database needed)", load: () => import("./probe") },
  db: { summary: "db migrate | db create-migration NAME | db status", load: () => import("./db") },
  start: { summary: "migrate, seed the admin, build if needed, run web + worker", load: () => import("./start") },
  credentials: { summary: "credentials rotate [--new-key]: re-seal stored credentials to the current key", load: () => import("./credentials") },
  audit: { summary: "audit verify [--file F] | checkpoint | export: the signed audit trail", load: () => import("./audit") },
  hosts: { summary: "hosts import FILE --as EMAIL [--preview]: the CSV import, with progress", load: () => import("./hosts") },
  worker: { summary: "run the job worker alone", load: () => import("./worker") },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ["usage: tlsfleet <command> [options]", "", ...lines].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`tlsfleet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}
