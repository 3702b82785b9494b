// The driver adapter the WASM schema engine migrates through: @prisma/adapter-pg, with the three
// places where adapter-pg 7.10 and the schema engine disagree fixed (all measured on these
// machines, see docs/architecture.md "Migrations without Prisma's native engines"):
//
// 1. adapter-pg rejects columns of Postgres' internal `"char"` type (OID 18) with
//    UnsupportedNativeDataType. The engine's catalog queries select such columns
//    (pg_constraint.contype, confdeltype, ...), so drift checks and every diff against a shadow
//    database failed. They are reported to the engine as Character values, as the native engine
//    reads them; as plain text the engine's describer panics on PostgreSQL 18, which lists NOT NULL
//    constraints (contype 'n') in pg_constraint.
// 2. adapter-pg's `executeScript` splits the migration on every `;`, which breaks any statement
//    with a `;` inside a string or a `$$` function body, and runs each piece as its own
//    transaction. The native engine sends the whole migration as one simple query, which Postgres
//    runs as one implicit transaction: a failing migration leaves nothing half-applied. Same here.
// 3. adapter-pg's shadow database is unusable: configured with a connection string, its shadow
//    pool (`{ ...config, database }`) still connects to the MAIN database, because pg lets the
//    connection string win over `database`; the engine then replays every migration there (seen
//    here as "type Role already exists"). It is also dropped while its pool still holds
//    connections, so `prisma_migrate_shadow_db_*` databases pile up. Here the shadow pool gets a
//    URL naming the shadow database, is closed first, and the drop is forced.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  ColumnTypeEnum,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlResultSet,
  type Transaction,
} from "@prisma/driver-adapter-utils";

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }>; rows?: unknown[] };

// Which columns of a result were `"char"`, keyed by the result's `rows` array: adapter-pg returns
// that same array object in its result set, so the mark survives the trip through queryRaw and
// cannot be confused with another query running concurrently.
const charColumnsByRows = new WeakMap<object, number[]>();

function relabelCharColumns(result: unknown): unknown {
  // A multi-statement simple query resolves to an array of results.
  const results = Array.isArray(result) ? (result as QueryResultLike[]) : [result as QueryResultLike];
  for (const r of results) {
    const charColumns: number[] = [];
    (r?.fields ?? []).forEach((field, index) => {
      if (field.dataTypeID !== PG_CHAR_OID) return;
      // Text for adapter-pg (which accepts it); the real type is restored in queryRaw below.
      field.dataTypeID = PG_TEXT_OID;
      charColumns.push(index);
    });
    if (charColumns.length > 0 && r.rows) charColumnsByRows.set(r.rows, charColumns);
  }
  return result;
}

function restoreCharColumns(result: SqlResultSet): SqlResultSet {
  const charColumns = charColumnsByRows.get(result.rows);
  if (!charColumns) return result;
  const columnTypes = [...result.columnTypes];
  for (const index of charColumns) columnTypes[index] = ColumnTypeEnum.Character;
  return { ...result, columnTypes };
}

/**
 * A pg Client whose `"char"` columns get past adapter-pg (see 1. above). pg's Pool calls `query`
 * with a callback and adapter-pg calls it expecting a promise, so both forms are wrapped.
 */
class CatalogCharClient extends pg.Client {
  // `any` because pg.Client#query has a dozen overloads; this override only post-processes results.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const last: unknown = args[args.length - 1];
    if (typeof last === "function") {
      const callback = last as (err: Error | null, res: unknown) => void;
      args[args.length - 1] = (err: Error | null, res: unknown) => callback(err, err ? res : relabelCharColumns(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    return out instanceof Promise ? out.then(relabelCharColumns) : out;
  }
}

function withCharColumns(transaction: Transaction): Transaction {
  return {
    provider: transaction.provider,
    adapterName: transaction.adapterName,
    options: transaction.options,
    queryRaw: async (query) => restoreCharColumns(await transaction.queryRaw(query)),
    executeRaw: (query) => transaction.executeRaw(query),
    commit: () => transaction.commit(),
    rollback: () => transaction.rollback(),
    createSavepoint: transaction.createSavepoint?.bind(transaction),
    rollbackToSavepoint: transaction.rollbackToSavepoint?.bind(transaction),
    releaseSavepoint: transaction.releaseSavepoint?.bind(transaction),
  };
}

function toDriverAdapterError(error: unknown): unknown {
  const e = error as Partial<pg.DatabaseError>;
  if (typeof e?.code !== "string" || typeof e.severity !== "string") return error;
  return new DriverAdapterError({
    kind: "postgres",
    code: e.code,
    severity: e.severity,
    message: e.message ?? "",
    detail: e.detail,
    column: e.column,
    hint: e.hint,
  });
}

/** The same connection string, pointed at another database on the same server. */
export function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs one statement on its own connection (CREATE/DROP DATABASE cannot run in a transaction). */
export async function runStatement(connectionString: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function openAdapter(connectionString: string, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  const pool = new pg.Pool({
    connectionString,
    Client: CatalogCharClient,
    // The engine serialises migrators with a session-level pg_advisory_lock taken on one pooled
    // connection; an idle timeout would close that connection and release the lock mid-migration.
    idleTimeoutMillis: 0,
    max: 4,
  });
  const inner = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
  let disposed: Promise<void> | undefined;
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: async (query) => restoreCharColumns(await inner.queryRaw(query)),
    executeRaw: (query) => inner.executeRaw(query),
    startTransaction: async (isolationLevel) => withCharColumns(await inner.startTransaction(isolationLevel)),
    getConnectionInfo: () => inner.getConnectionInfo(),
    async executeScript(script: string) {
      try {
        // No parameters: pg uses the simple query protocol, which accepts many statements at once.
        await pool.query(script);
      } catch (error) {
        throw toDriverAdapterError(error);
      }
    },
    // The engine may dispose an adapter itself and MigrationAdapterFactory.close() does it again.
    dispose() {
      disposed ??= (async () => {
        await inner.dispose();
        await onDispose?.();
      })();
      return disposed;
    },
  };
}

/**
 * Adapter factory for the schema engine. Call `close()` when the engine is done: it ends every
 * pool the engine opened (which also releases the engine's advisory lock) and drops leftover
 * shadow databases.
 */
export class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres" as const;
  readonly adapterName = "@prisma/adapter-pg";
  private readonly adapters = new Set<SqlDriverAdapter>();

  constructor(private readonly connectionString: string) {}

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await openAdapter(this.connectionString);
    this.adapters.add(adapter);
    return adapter;
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    // Same naming as Prisma, so a leftover is recognisable.
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await runStatement(this.connectionString, `CREATE DATABASE ${quoteIdent(name)}`);
    try {
      const adapter = await openAdapter(withDatabase(this.connectionString, name), () =>
        // FORCE (PostgreSQL 13+) in case a connection outlived its pool.
        runStatement(this.connectionString, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
      );
      this.adapters.add(adapter);
      return adapter;
    } catch (error) {
      await runStatement(this.connectionString, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      throw error;
    }
  }

  async close(): Promise<void> {
    const adapters = [...this.adapters];
    this.adapters.clear();
    const results = await Promise.allSettled(adapters.map((a) => a.dispose()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}
