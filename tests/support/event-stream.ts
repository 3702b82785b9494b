// Reading text/event-stream bodies in tests and benchmarks (Node 20 has no EventSource): one
// parser of the blocks the API writes (lib/http/event-stream.ts), "event:", "id:", one "data:".

export interface ParsedEvent<T = unknown> {
  event: string;
  id: string | undefined;
  data: T;
}

/** Calls `onEvent` for each complete event in a stream body as it arrives; resolves at its end. */
export async function forEachEvent<T>(body: NonNullable<Response["body"]>, onEvent: (e: ParsedEvent<T>, at: number) => boolean | void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const at = performance.now();
      buffer += value;
      for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || !data) continue;
        // true: the caller has what it wanted; the client goes away.
        if (onEvent({ event, id: /^id: (.*)$/m.exec(block)?.[1], data: JSON.parse(data) as T }, at) === true) return;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
