// Bounds on a task's log. Lines often carry what a host printed (an error quoting its output, a
// playbook's description of a configuration the host wrote), so a host could otherwise grow one
// JobTask row without limit and make every live view of the job re-send it. Each line is cut at
// MAX_TASK_LOG_LINE_BYTES and each attempt writes at most MAX_TASK_LOG_BYTES; a task has at most
// MAX_TASK_ATTEMPTS attempts (lib/jobs/tasks.ts), so its log is bounded too. What is cut says so,
// with the number of bytes left out.

/** "10:02:03Z 25/smtp: ..." — the task log is read next to other logs, so times are UTC. */
export function stampLine(line: string, at = new Date()): string {
  return `${at.toISOString().slice(11, 19)}Z ${line}\n`;
}

/** One line of the task log (or the task's error), UTF-8 bytes. */
export const MAX_TASK_LOG_LINE_BYTES = 4 * 1024;
/** What one attempt may append to the task log, UTF-8 bytes. */
export const MAX_TASK_LOG_BYTES = 256 * 1024;

const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

/** Cuts `text` to at most `max` UTF-8 bytes on a character boundary. */
function cutToBytes(text: string, max: number): string {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return text;
  let end = max;
  // Back off to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString("utf8");
}

/**
 * A line as it may be stored: NUL replaced (PostgreSQL text cannot hold it, and the whole write
 * would fail), and cut at `max` bytes with "… (truncated, N bytes)" naming the bytes left out.
 */
export function boundedLogLine(line: string, max = MAX_TASK_LOG_LINE_BYTES): string {
  const clean = line.includes("\0") ? line.replace(/\0/g, "\\0") : line;
  const total = byteLength(clean);
  if (total <= max) return clean;
  const kept = cutToBytes(clean, max);
  return `${kept}… (truncated, ${total - byteLength(kept)} bytes)`;
}

/** The bytes one attempt may still append. `take` returns what to write, or null to drop. */
export class TaskLogBudget {
  private used = 0;
  private droppedBytes = 0;
  private droppedLines = 0;

  constructor(private readonly max = MAX_TASK_LOG_BYTES) {}

  take(text: string): string | null {
    const n = byteLength(text);
    if (this.droppedLines === 0 && this.used + n <= this.max) {
      this.used += n;
      return text;
    }
    this.droppedBytes += n;
    this.droppedLines++;
    return this.droppedLines === 1 ? `… task log full (${this.max} bytes for this attempt): further lines are left out\n` : null;
  }

  /** For the task's last line: how much was left out, or "" when nothing was. */
  closingNote(): string {
    return this.droppedLines === 0 ? "" : `(truncated, ${this.droppedBytes} bytes: ${this.droppedLines} log line${this.droppedLines === 1 ? "" : "s"} left out)\n`;
  }
}
