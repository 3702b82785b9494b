// TEST DOUBLE: machine profiles (profiles/*.json). A profile is either a whole registry or another
// profile with changes: `extends` names the base, `removeKeys` deletes keys (with their subkeys)
// from it, `registry` adds or overrides values, `locale` sets the display language.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { LOCALES, type WindowsLocale } from "./locale";
import { Registry, RegistryFileSchema } from "./registry";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROFILE_ALIASES: Record<string, string> = { legacy: "legacy-2012r2" };

const ProfileSchema = z.object({
  description: z.string(),
  hostname: z.string().regex(/^[A-Za-z0-9-]{1,15}$/),
  extends: z.string().optional(),
  locale: z.enum(Object.keys(LOCALES) as [keyof typeof LOCALES, ...Array<keyof typeof LOCALES>]).optional(),
  removeKeys: z.array(z.string()).default([]),
  registry: RegistryFileSchema.default({}),
});

export interface Profile {
  description: string;
  hostname: string;
  locale: WindowsLocale;
  registry: Registry;
}

export function profileFile(name: string): string {
  return name.includes("/") || name.endsWith(".json") ? name : path.join(HERE, "profiles", `${PROFILE_ALIASES[name] ?? name}.json`);
}

export function loadProfile(name: string, seen: string[] = []): Profile {
  const file = profileFile(name);
  if (seen.includes(file)) throw new Error(`profile ${name}: "extends" loops`);
  const p = ProfileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  const base = p.extends ? loadProfile(p.extends, [...seen, file]) : null;
  const registry = base?.registry ?? new Registry();
  for (const key of p.removeKeys) registry.deleteKey(key);
  for (const [key, values] of Object.entries(p.registry)) {
    registry.createKey(key);
    for (const [name, value] of Object.entries(values)) registry.setValue(key, name, value);
  }
  return {
    description: p.description,
    hostname: p.hostname,
    locale: p.locale ? LOCALES[p.locale] : (base?.locale ?? LOCALES["en-US"]),
    registry,
  };
}
