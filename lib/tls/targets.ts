import { isIP } from "node:net";
import { defaultPortForService, isService } from "./services";
import type { ProbeTarget, Service } from "./types";

/** Port assumed when neither a port nor a service is given: the product exists for SMTP mail flow. */
export const FALLBACK_PORT = 25;

export class TargetSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetSyntaxError";
  }
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

/** A syntactically valid DNS host name (RFC 1123 labels; underscores tolerated as resolvers do). */
export function isHostName(text: string): boolean {
  return HOST_NAME.test(text);
}

/**
 * "HOST", "HOST:PORT", "[IPv6]:PORT", "[IPv6]" or a bare IPv6 address. Without a port the
 * service's conventional port is used, else 25.
 */
export function parseTargetSpec(spec: string, service?: Service): ProbeTarget {
  const text = spec.trim();
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new TargetSyntaxError(`unclosed '[' in target '${spec}'`);
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) throw new TargetSyntaxError(`expected ':PORT' after ']' in target '${spec}'`);
      portText = after.slice(1);
    }
    if (isIP(host) !== 6) throw new TargetSyntaxError(`'${host}' in brackets is not an IPv6 address`);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const colon = text.lastIndexOf(":");
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (isIP(host) === 0 && !HOST_NAME.test(host)) throw new TargetSyntaxError(`'${host}' is not a host name or address`);
  }
  const port = portText === undefined ? (service ? defaultPortForService(service) : null) ?? FALLBACK_PORT : parsePort(portText, spec);
  return service ? { host, port, service } : { host, port };
}

export function parsePort(text: string, context = text): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new TargetSyntaxError(`bad port '${text}' in '${context}' (expected 1-65535)`);
  return port;
}

export function parseServiceName(text: string): Service {
  const name = text.toLowerCase();
  if (!isService(name)) {
    throw new TargetSyntaxError(`unknown service '${text}' (expected smtp, submission, smtps, https, imap, imaps, pop3, pop3s, ldaps or tls)`);
  }
  return name;
}

/** "host:port", with IPv6 addresses in brackets so the port stays unambiguous. */
export function formatTarget(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface TargetsFile {
  targets: ProbeTarget[];
  /** One message per bad line, with its line number. */
  problems: string[];
}

/** A targets file: one "HOST:PORT [SERVICE]" per line; '#' starts a comment; blank lines are skipped. */
export function parseTargetsFile(text: string): TargetsFile {
  const targets: ProbeTarget[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const fields = line.split(/\s+/);
    try {
      if (fields.length > 2) throw new TargetSyntaxError(`expected 'HOST:PORT [SERVICE]', got ${fields.length} fields`);
      const service = fields[1] === undefined ? undefined : parseServiceName(fields[1]);
      targets.push(parseTargetSpec(fields[0]!, service));
    } catch (error) {
      problems.push(`line ${index + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  return { targets, problems };
}
