// One statement at a time on a transaction's connection.
//
// Prisma's query interpreter fetches the children of a relation read (`include`, nested
// `select`) with Promise.all. Outside a transaction each query takes its own pooled connection;
// inside one, every query goes to the transaction's single pg client, so the children arrive on
// that client while it is still busy. pg 8.19+ then warns "Calling client.query() when the
// client is already executing a query is deprecated and will be removed in pg@9.0", and pg 9
// refuses it (prisma/orm issue #29646; the fix is open upstream as prisma/orm PR #29979).
// This wrapper queues a transaction's statements, so they reach the client one after another,
// as pg requires; the order among siblings is the order Prisma issued them.
import type { SqlDriverAdapter, SqlDriverAdapterFactory, Transaction } from "@prisma/driver-adapter-utils";

/** Runs `fn`s one after another; a failure rejects its caller only, the queue goes on. */
function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

function serialTransaction(tx: Transaction): Transaction {
  const inTurn = serialQueue();
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => inTurn(() => tx.queryRaw(query)),
    executeRaw: (query) => inTurn(() => tx.executeRaw(query)),
    commit: () => inTurn(() => tx.commit()),
    rollback: () => inTurn(() => tx.rollback()),
    createSavepoint: tx.createSavepoint && ((name) => inTurn(() => tx.createSavepoint!(name))),
    rollbackToSavepoint: tx.rollbackToSavepoint && ((name) => inTurn(() => tx.rollbackToSavepoint!(name))),
    releaseSavepoint: tx.releaseSavepoint && ((name) => inTurn(() => tx.releaseSavepoint!(name))),
  };
}

function serialAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => adapter.queryRaw(query),
    executeRaw: (query) => adapter.executeRaw(query),
    executeScript: (script) => adapter.executeScript(script),
    startTransaction: async (isolationLevel) => serialTransaction(await adapter.startTransaction(isolationLevel)),
    getConnectionInfo: adapter.getConnectionInfo && (() => adapter.getConnectionInfo!()),
    dispose: () => adapter.dispose(),
  };
}

/** The factory with every transaction it opens made serial (see the top of this file). */
export function withSerialTransactions(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => serialAdapter(await factory.connect()),
  };
}
