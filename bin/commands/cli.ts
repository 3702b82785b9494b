// What every `tlsfleet <command> <subcommand>` does before its own work: `--help` prints the
// usage and exits 0; arguments its parser refuses print why, then the usage, and exit 2 (a usage
// error, apart from the 1 of a command that ran and failed).

/** The parsed arguments, or the exit code when there is nothing more to do. */
export function parseSubcommand<T extends object>(name: string, usage: string, argv: string[], parse: (argv: string[]) => T | string): T | number {
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    console.log(usage);
    return 0;
  }
  const parsed = parse(argv);
  if (typeof parsed === "string") {
    console.error(`tlsfleet ${name}: ${parsed}\n\n${usage}`);
    return 2;
  }
  return parsed;
}
