// TEST DOUBLE plumbing shared by the double's listeners (WinRM, OpenSSH, SMTP): binding a port
// and shutting down. net.Server.close() only stops accepting; it waits for every open connection,
// so a stop first drops the connections a listener still holds.

import type net from "node:net";

/** Listens on host:port (0: any free port) and resolves with the port bound. */
export function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Resolves once the server has stopped (at once when there is none). */
export function close(server: net.Server | null): Promise<void> {
  return server ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
}

/** The connections a listener has open, each forgotten when it closes. */
export class OpenConnections<C extends { once(event: "close", listener: () => void): unknown }> {
  private readonly open = new Set<C>();

  /** `drop` ends one connection without waiting for the peer. */
  constructor(private readonly drop: (connection: C) => void) {}

  add(connection: C): void {
    this.open.add(connection);
    connection.once("close", () => this.open.delete(connection));
  }

  dropAll(): void {
    for (const c of this.open) this.drop(c);
    this.open.clear();
  }
}
