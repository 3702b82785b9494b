// Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm), driven through
// @prisma/adapter-pg. This replaces the native schema engine, which `prisma migrate` downloads and
// these machines cannot (docs/architecture.md "Migrations without Prisma's native engines").
//
// The package's ESM entry does `import * as wasm from "./schema_engine_bg.wasm"`, which Node 20
// refuses, so the .wasm file is instantiated here and handed to the JS glue with __wbg_set_wasm.
// The glue keeps the instance in module state: one instance per process, shared by every engine.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import { MigrationAdapterFactory } from "./migration-adapter";

type EngineModule = typeof import("@prisma/schema-engine-wasm/schema_engine_bg");

// A Rust panic inside the engine reports its message through this global before the wasm traps
// with a bare "unreachable"; Prisma's CLI defines it, and without it the report itself crashes
// the process with a TypeError. The last message is attached to the error the caller sees.
let lastPanic: string | undefined;
const panicGlobal = globalThis as unknown as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
panicGlobal.PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message(message: string) {
    lastPanic = message;
  },
};

/** The panic message of the engine, if it panicked since the last call. */
export function takeEnginePanic(): string | undefined {
  const message = lastPanic;
  lastPanic = undefined;
  return message;
}

let engineModule: Promise<EngineModule> | undefined;

function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const glue = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const compiled = await WebAssembly.compile(await readFile(path.join(path.dirname(gluePath), "schema_engine_bg.wasm")));
    // The wasm imports its host functions from "./schema_engine_bg.js", i.e. the glue module.
    const hostFunctions: Record<string, unknown> = { ...glue };
    for (const name of Object.keys(hostFunctions)) {
      // The engine arms a 10 s timer around every advisory-lock wait and never clears it (the glue
      // has no clearTimeout): unref'd, a finished `tlsfleet db migrate` exits at once instead of
      // 10 s later. While an engine call runs, its database connection keeps the process alive.
      if (name.startsWith("__wbg_setTimeout_")) {
        hostFunctions[name] = (callback: () => void, ms: number) => setTimeout(callback, ms >>> 0).unref();
      }
    }
    const imports: WebAssembly.Imports = {};
    for (const { module } of WebAssembly.Module.imports(compiled)) {
      imports[module] = hostFunctions as WebAssembly.ModuleImports;
    }
    const instance = await WebAssembly.instantiate(compiled, imports);
    glue.__wbg_set_wasm(instance.exports);
    const start = instance.exports.__wbindgen_start;
    if (typeof start === "function") (start as () => void)();
    return glue;
  })();
  engineModule.catch(() => {
    engineModule = undefined;
  });
  return engineModule;
}

export interface SchemaFile {
  path: string;
  content: string;
}

export interface EngineSession {
  engine: SchemaEngine;
  /** Frees the engine and closes every connection it opened (including shadow databases). */
  close(): Promise<void>;
}

/** The engine's `filters` argument: tlsfleet has no externally managed tables or enums. */
export const NO_FILTERS = { externalTables: [], externalEnums: [] };

/**
 * Starts a schema engine for the database at `connectionString`. `schema` is the Prisma schema
 * the engine reads its datasource provider and preview features (postgresqlExtensions) from.
 */
export async function openSchemaEngine(connectionString: string, schema: SchemaFile): Promise<EngineSession> {
  const glue = await loadEngineModule();
  const factory = new MigrationAdapterFactory(connectionString);
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    // Tracing as JSON lines, INFO level: nothing an operator needs; failures arrive as errors.
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  return {
    engine,
    async close() {
      engine.free();
      await factory.close();
    },
  };
}

/**
 * Engine errors carry a user-facing message ("P3009 migrate found failed migrations ...") followed
 * by a span trace ("   0: schema_engine_wasm::...") that only helps engine developers; the trace
 * is cut, the Prisma error code kept. Some errors arrive as plain objects rather than Errors.
 */
export function engineError(error: unknown, what: string): Error & { code?: string } {
  const panic = takeEnginePanic();
  if (panic) what = `${what} (schema engine panicked: ${panic})`;
  const cutTrace = (message: string) => (message.split(/\n\s*0: /)[0] ?? message).trim();
  if (error instanceof Error) {
    error.message = `${what}: ${cutTrace(error.message)}`;
    return error;
  }
  if (typeof error === "object" && error !== null) {
    const e = error as { message?: unknown; code?: unknown };
    const message = typeof e.message === "string" ? cutTrace(e.message) : JSON.stringify(error);
    return Object.assign(new Error(`${what}: ${message}`, { cause: error }), typeof e.code === "string" ? { code: e.code } : {});
  }
  return new Error(`${what}: ${String(error)}`);
}
