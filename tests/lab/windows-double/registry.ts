// TEST DOUBLE: an in-memory Windows registry persisted as JSON, and reg.exe on top of it.
//
// Output follows what reg.exe prints (docs/architecture.md "Windows registry reads"; Microsoft
// Learn "reg query", "reg add", "reg delete"): CRLF line ends; the root spelled out
// (HKEY_LOCAL_MACHINE); a key block is its path then one line per value indented by four
// spaces, name, type and data separated by four spaces, DWORDs as 0x<lowercase hex>, then a
// blank line; a key without values prints only its path; missing key or value ->
// "ERROR: The system was unable to find the specified registry key or value." on stderr, exit 1.
// Messages and the unnamed value's name are in the machine's display language (locale.ts): on
// Polish Windows the same missing key prints "BŁĄD: System nie może odnaleźć określonego klucza
// rejestru lub wartości.", still exit 1 with nothing on stdout.
// Values keep their creation order; subkeys are listed alphabetically, as the registry
// enumerates them.

import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { z } from "zod";
import { LOCALES, type RegMessages } from "./locale";

export type RegValue =
  | { type: "REG_DWORD"; data: number }
  | { type: "REG_QWORD"; data: string }
  | { type: "REG_SZ" | "REG_EXPAND_SZ"; data: string }
  | { type: "REG_MULTI_SZ"; data: string[] }
  | { type: "REG_BINARY"; data: string };

const RegValueSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("REG_DWORD"), data: z.number().int().min(0).max(0xffffffff) }),
  z.object({ type: z.literal("REG_QWORD"), data: z.string().regex(/^[0-9]+$/) }),
  z.object({ type: z.enum(["REG_SZ", "REG_EXPAND_SZ"]), data: z.string() }),
  z.object({ type: z.literal("REG_MULTI_SZ"), data: z.array(z.string()) }),
  z.object({ type: z.literal("REG_BINARY"), data: z.string().regex(/^[0-9A-Fa-f]*$/) }),
]);

/** The file format: full key path -> { value name -> value }. "" is the (Default) value. */
export const RegistryFileSchema = z.record(z.string(), z.record(z.string(), RegValueSchema));
export type RegistryFile = z.infer<typeof RegistryFileSchema>;

interface Key {
  name: string;
  values: Map<string, { name: string; value: RegValue }>;
  subkeys: Map<string, Key>;
}

const ROOTS: Record<string, string> = {
  HKLM: "HKEY_LOCAL_MACHINE",
  HKEY_LOCAL_MACHINE: "HKEY_LOCAL_MACHINE",
  HKCU: "HKEY_CURRENT_USER",
  HKEY_CURRENT_USER: "HKEY_CURRENT_USER",
  HKCR: "HKEY_CLASSES_ROOT",
  HKEY_CLASSES_ROOT: "HKEY_CLASSES_ROOT",
  HKU: "HKEY_USERS",
  HKEY_USERS: "HKEY_USERS",
  HKCC: "HKEY_CURRENT_CONFIG",
  HKEY_CURRENT_CONFIG: "HKEY_CURRENT_CONFIG",
};

export const NOT_FOUND = LOCALES["en-US"].reg.notFound;

/** Splits "HKLM\A\B" into ["HKEY_LOCAL_MACHINE", "A", "B"]; null for an invalid root. */
export function splitKeyPath(path: string): string[] | null {
  const parts = path.split("\\").filter((p, i) => p !== "" || i === 0);
  if (parts.length === 0) return null;
  const root = ROOTS[parts[0]!.toUpperCase()];
  if (!root) return null;
  // Trailing backslashes are tolerated by reg.exe; empty middle segments are not.
  const rest = parts.slice(1);
  if (rest.some((p) => p === "")) return null;
  return [root, ...rest];
}

export class Registry {
  private readonly root: Key = { name: "", values: new Map(), subkeys: new Map() };

  constructor(file: RegistryFile = {}) {
    for (const [path, values] of Object.entries(file)) {
      const parts = splitKeyPath(path);
      if (!parts) throw new Error(`registry file: invalid key path ${path}`);
      const key = this.ensure(parts);
      for (const [name, value] of Object.entries(values)) key.values.set(name.toLowerCase(), { name, value });
    }
  }

  static load(file: string): Registry {
    return new Registry(RegistryFileSchema.parse(JSON.parse(readFileSync(file, "utf8"))));
  }

  save(file: string): void {
    writeFileSync(`${file}.tmp`, JSON.stringify(this.toFile(), null, 2));
    renameSync(`${file}.tmp`, file);
  }

  toFile(): RegistryFile {
    const out: RegistryFile = {};
    const walk = (k: Key, path: string[]) => {
      if (path.length > 1) {
        out[path.join("\\")] = Object.fromEntries([...k.values.values()].map((v) => [v.name, v.value]));
      }
      for (const sub of k.subkeys.values()) walk(sub, [...path, sub.name]);
    };
    for (const top of this.root.subkeys.values()) walk(top, [top.name]);
    return out;
  }

  private find(parts: string[]): Key | null {
    let k: Key | undefined = this.root;
    for (const p of parts) {
      k = k.subkeys.get(p.toLowerCase());
      if (!k) return null;
    }
    return k;
  }

  private ensure(parts: string[]): Key {
    let k = this.root;
    for (const p of parts) {
      let next = k.subkeys.get(p.toLowerCase());
      if (!next) {
        next = { name: p, values: new Map(), subkeys: new Map() };
        k.subkeys.set(p.toLowerCase(), next);
      }
      k = next;
    }
    return k;
  }

  keyExists(path: string): boolean {
    const parts = splitKeyPath(path);
    return parts !== null && this.find(parts) !== null;
  }

  getValue(path: string, name: string): RegValue | undefined {
    const parts = splitKeyPath(path);
    return parts ? this.find(parts)?.values.get(name.toLowerCase())?.value : undefined;
  }

  setValue(path: string, name: string, value: RegValue): void {
    const parts = splitKeyPath(path);
    if (!parts) throw new Error(`invalid key ${path}`);
    const key = this.ensure(parts);
    const existing = key.values.get(name.toLowerCase());
    key.values.set(name.toLowerCase(), { name: existing?.name ?? name, value });
  }

  createKey(path: string): void {
    const parts = splitKeyPath(path);
    if (!parts) throw new Error(`invalid key ${path}`);
    this.ensure(parts);
  }

  deleteValue(path: string, name: string): boolean {
    const parts = splitKeyPath(path);
    const key = parts ? this.find(parts) : null;
    return key ? key.values.delete(name.toLowerCase()) : false;
  }

  deleteKey(path: string): boolean {
    const parts = splitKeyPath(path);
    if (!parts || parts.length < 2) return false;
    const parent = this.find(parts.slice(0, -1));
    return parent ? parent.subkeys.delete(parts[parts.length - 1]!.toLowerCase()) : false;
  }

  /** The key with its canonical spelling, for printing. */
  resolve(path: string): { path: string; key: Key } | null {
    const parts = splitKeyPath(path);
    if (!parts) return null;
    const names: string[] = [parts[0]!];
    let k: Key | undefined = this.root.subkeys.get(parts[0]!.toLowerCase());
    if (!k) return null;
    for (const p of parts.slice(1)) {
      k = k.subkeys.get(p.toLowerCase());
      if (!k) return null;
      names.push(k.name);
    }
    return { path: names.join("\\"), key: k };
  }

  static sortedSubkeys(k: Key): Key[] {
    return [...k.subkeys.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  }

  static values(k: Key): Array<{ name: string; value: RegValue }> {
    return [...k.values.values()];
  }
}

export function formatValueLine(name: string, v: RegValue, defaultName = LOCALES["en-US"].reg.defaultValueName): string {
  let data: string;
  switch (v.type) {
    case "REG_DWORD":
      data = `0x${v.data.toString(16)}`;
      break;
    case "REG_QWORD":
      data = `0x${BigInt(v.data).toString(16)}`;
      break;
    case "REG_MULTI_SZ":
      data = v.data.join("\\0");
      break;
    case "REG_BINARY":
      data = v.data.toUpperCase();
      break;
    default:
      data = v.data;
  }
  return `    ${name === "" ? defaultName : name}    ${v.type}    ${data}\r\n`;
}

export interface RegResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Registry writes made, for the double's event log. */
  writes: Array<{ op: "set" | "delete-value" | "delete-key" | "create-key"; key: string; name?: string; value?: RegValue }>;
}

/** reg.exe with argv as the program received it (argv[0] = "reg"). `stdin` answers prompts. */
export function runReg(registry: Registry, argv: string[], stdin: string, msg: RegMessages = LOCALES["en-US"].reg): RegResult {
  const result: RegResult = { stdout: "", stderr: "", exitCode: 0, writes: [] };
  const fail = (text: string, code = 1) => ({ ...result, stderr: text, exitCode: code });
  const SYNTAX = (sub: string) => msg.invalidSyntax(`${sub.toUpperCase()} `);
  const [, sub = "", keyArg, ...rest] = argv;
  const op = sub.toLowerCase();
  if (!["query", "add", "delete"].includes(op)) {
    return fail(msg.invalidSyntax(""));
  }
  if (keyArg === undefined) return fail(SYNTAX(op));
  if (keyArg.startsWith("\\\\")) return fail(msg.networkPath);
  if (!splitKeyPath(keyArg)) return fail(msg.invalidKey(op.toUpperCase()));
  const line = (name: string, v: RegValue) => formatValueLine(name, v, msg.defaultValueName);

  // Switches: /v NAME, /ve, /s, /t TYPE, /d DATA, /f, /va, /reg:32|64.
  const sw: { v?: string; ve?: boolean; s?: boolean; t?: string; d?: string; f?: boolean; va?: boolean } = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!.toLowerCase();
    const next = () => {
      const n = rest[++i];
      if (n === undefined) throw new Error("missing");
      return n;
    };
    try {
      if (a === "/v") sw.v = next();
      else if (a === "/ve") sw.ve = true;
      else if (a === "/s" && op === "query") sw.s = true;
      else if (a === "/t" && op === "add") sw.t = next().toUpperCase();
      else if (a === "/d" && op === "add") sw.d = next();
      else if (a === "/f" && op !== "query") sw.f = true;
      else if (a === "/va" && op === "delete") sw.va = true;
      else if (a === "/reg:32" || a === "/reg:64") continue;
      else return fail(SYNTAX(op));
    } catch {
      return fail(SYNTAX(op));
    }
  }
  if (sw.v !== undefined && sw.ve) return fail(SYNTAX(op));
  const valueName = sw.ve ? "" : sw.v;

  if (op === "query") {
    const found = registry.resolve(keyArg);
    if (!found) return fail(msg.notFound);
    if (valueName !== undefined) {
      const blocks: string[] = [];
      let matches = 0;
      const visit = (path: string, k: Key, recurse: boolean) => {
        const v = k.values.get(valueName.toLowerCase());
        if (v) {
          blocks.push(`${path}\r\n${line(v.name, v.value)}\r\n`);
          matches++;
        }
        if (recurse) for (const sub of Registry.sortedSubkeys(k)) visit(`${path}\\${sub.name}`, sub, true);
      };
      visit(found.path, found.key, sw.s === true);
      if (matches === 0) return fail(msg.notFound);
      result.stdout = `\r\n${blocks.join("")}`;
      if (sw.s) result.stdout += `End of search: ${matches} match(es) found.\r\n`;
      return result;
    }
    if (sw.s) {
      let out = "\r\n";
      const visit = (path: string, k: Key) => {
        const values = Registry.values(k);
        out += `${path}\r\n`;
        if (values.length > 0) out += values.map((v) => line(v.name, v.value)).join("") + "\r\n";
        for (const sub of Registry.sortedSubkeys(k)) visit(`${path}\\${sub.name}`, sub);
      };
      visit(found.path, found.key);
      result.stdout = out;
      return result;
    }
    const values = Registry.values(found.key);
    let out = "\r\n";
    if (values.length > 0) out += `${found.path}\r\n${values.map((v) => line(v.name, v.value)).join("")}\r\n`;
    for (const sub of Registry.sortedSubkeys(found.key)) out += `${found.path}\\${sub.name}\r\n`;
    result.stdout = out;
    return result;
  }

  if (op === "add") {
    const canonical = splitKeyPath(keyArg)!.join("\\");
    if (valueName === undefined) {
      if (sw.t !== undefined || sw.d !== undefined) return fail(SYNTAX(op));
      registry.createKey(canonical);
      result.writes.push({ op: "create-key", key: canonical });
      result.stdout = msg.success;
      return result;
    }
    const type = sw.t ?? "REG_SZ";
    const raw = sw.d ?? "";
    let value: RegValue;
    if (type === "REG_DWORD" || type === "REG_DWORD_LITTLE_ENDIAN") {
      const n = /^0x[0-9a-f]{1,8}$/i.test(raw) ? parseInt(raw, 16) : /^[0-9]{1,10}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n > 0xffffffff) return fail(msg.invalidData);
      value = { type: "REG_DWORD", data: n };
    } else if (type === "REG_SZ" || type === "REG_EXPAND_SZ") {
      value = { type, data: raw };
    } else if (type === "REG_MULTI_SZ") {
      value = { type, data: raw === "" ? [] : raw.split("\\0") };
    } else if (type === "REG_QWORD") {
      if (!/^(0x[0-9a-f]{1,16}|[0-9]{1,20})$/i.test(raw)) return fail(SYNTAX(op));
      value = { type, data: BigInt(raw).toString() };
    } else if (type === "REG_BINARY") {
      if (!/^([0-9a-f]{2})*$/i.test(raw)) return fail(SYNTAX(op));
      value = { type, data: raw.toUpperCase() };
    } else {
      return fail(msg.invalidType);
    }
    const exists = registry.getValue(canonical, valueName) !== undefined;
    if (exists && !sw.f) {
      // reg.exe asks; with no "yes" on stdin the write does not happen.
      const prompt = msg.overwrite(valueName === "" ? msg.defaultValueName : valueName);
      if (!msg.yes.test(stdin)) return { ...result, stdout: `${prompt}${msg.canceled}`, exitCode: 1 };
      result.stdout = prompt;
    }
    registry.setValue(canonical, valueName, value);
    result.writes.push({ op: "set", key: canonical, name: valueName, value });
    result.stdout += msg.success;
    return result;
  }

  // delete
  const found = registry.resolve(keyArg);
  if (!found) return fail(msg.notFound);
  if (valueName !== undefined || sw.va) {
    if (valueName !== undefined && !found.key.values.has(valueName.toLowerCase())) return fail(msg.notFound);
    if (!sw.f) {
      const prompt = valueName !== undefined ? msg.deleteValue(valueName) : msg.deleteAllValues(keyArg);
      if (!msg.yes.test(stdin)) return { ...result, stdout: `${prompt}${msg.canceled}`, exitCode: 1 };
      result.stdout = prompt;
    }
    const names = valueName !== undefined ? [valueName] : [...found.key.values.values()].map((v) => v.name);
    for (const name of names) {
      registry.deleteValue(found.path, name);
      result.writes.push({ op: "delete-value", key: found.path, name });
    }
  } else {
    if (!sw.f) {
      const prompt = msg.deleteKey(keyArg);
      if (!msg.yes.test(stdin)) return { ...result, stdout: `${prompt}${msg.canceled}`, exitCode: 1 };
      result.stdout = prompt;
    }
    registry.deleteKey(found.path);
    result.writes.push({ op: "delete-key", key: found.path });
  }
  result.stdout += msg.success;
  return result;
}
