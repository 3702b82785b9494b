// The outbound check sink on loopback for unit tests, keeping every record it makes.
import { afterAll, beforeAll } from "vitest";
import { startOutboundSink, type RunningSink, type SinkRecord } from "../../../lib/outbound/sink";
import { selfSignedCertificate } from "../../lab/peers/common";

export interface RecordingSink {
  readonly port: number;
  /** The record of the next connection that ends after `run` (connections here run one at a time). */
  nextRecord(run: () => Promise<unknown>): Promise<SinkRecord>;
}

/** Starts the sink before the file's tests and closes it after them. */
export function recordingSink(): RecordingSink {
  let sink: RunningSink | undefined;
  const records: SinkRecord[] = [];
  const waiters: Array<() => void> = [];
  beforeAll(async () => {
    sink = await startOutboundSink({
      host: "127.0.0.1",
      port: 0,
      certificate: selfSignedCertificate("outbound-check.lab"),
      idleTimeoutMs: 20_000,
      onRecord: (r) => {
        records.push(r);
        for (const w of waiters.splice(0)) w();
      },
    });
  });
  afterAll(() => sink?.close());
  return {
    get port() {
      if (!sink) throw new Error("the sink is not started yet");
      return sink.port;
    },
    async nextRecord(run) {
      const before = records.length;
      await run();
      while (records.length === before) await new Promise<void>((resolve) => waiters.push(resolve));
      return records[before]!;
    },
  };
}
