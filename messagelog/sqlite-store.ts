/**
 * The embedded message log: one SQLite database (Node's built-in `node:sqlite`) in the node's data
 * directory. WAL journal with `synchronous=FULL`, so a committed group is on disk (fsynced) before any
 * of its appends resolve; one transaction per group, sealed (signed) and written by a worker thread
 * (sqlite-writer.ts) so neither hashing nor commits stall the event loop. Reads use their own
 * connection on the main thread.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { Worker } from 'node:worker_threads'
import { signLeaves, type BatchSignature, type SigningIdentity, type SigningKeyProvider } from '../certs/batch-signer.ts'
import { searchSql, summaryRow, trafficRow, trafficSql, type ExchangeQuery, type ExchangeSummary, type Sql, type SqlDialect, type TrafficCell, type TrafficQuery } from './exchanges.ts'
import { completeRecords } from './complete.ts'
import { contentValues, recordLeaf, type RecordFormat, type StoredRecord } from './record.ts'
import type { WireEntry, WriteReply, WriterControl, WriterData, WriteRequest } from './sqlite-writer.ts'
import { logTables } from './schema.ts'
import { hexSelect, hexUnpacker, idForms, packDigest, packId, unpackDigest, unpackId, unpackName, unpackNamed } from './sqlite-columns.ts'
import { MESSAGE_INDEX, PLAIN_MESSAGE_INDEX_NAME, RECORDS_BY_MESSAGE_ID } from './sqlite-message-index.ts'
import { NameLookup, NAMES_TABLE } from './sqlite-names.ts'
import { unpackHeader } from './sqlite-signatures.ts'
import { sqliteDialect } from './sqlite-sql.ts'
import { SealKeys, type LogEntry } from './seal.ts'
import { PENDING_TABLE, type SignedBatch } from './deferred-batches.ts'
import { arrayRecord, GroupCommit, RECORD_COLUMNS, rowRecord, type ChainAnchor, type GroupResult, type LogLocation, type LogStore, type LogStoreOptions } from './store.ts'

interface Appending { entry: LogEntry; identity: SigningIdentity }

const COLUMN_NAMES = RECORD_COLUMNS.map(c => c[1])
/** node.log.signWithinMs's default: how soon a deferred batch is signed. */
export const DEFAULT_SIGN_WITHIN_MS = 200
/** The RECORD_COLUMNS as a long read selects them (sqlite-columns.ts). */
const SCAN_COLUMNS = hexSelect(COLUMN_NAMES)

/**
 * The writer thread's young generation, in MB: V8 makes it two semi-spaces of a third each (and room
 * beside them). A group's objects die within its commit, so a small nursery costs the writer no CPU
 * that `npm run bench:log` can see (6, 8, 12 and 48 MB read alike); with more room V8 grows the
 * nursery step by step under sustained load (on a large host up to two 64 MB semi-spaces), and what
 * it touched stays resident (docs/configuration.md, "The node's memory"). `ura start` clears the
 * launcher's `--max-semi-space-size` before it starts this thread, which would otherwise win over
 * this limit (cli/thread-memory.ts).
 */
export const WRITER_YOUNG_MB = 8

/**
 * The writer thread's old-generation maximum, in MB. V8 lets an old space grow to a multiple of
 * what survived its last full collection before it collects again, and picks that multiple from the
 * heap's maximum: about 4 on a heap allowed gigabytes (a worker's default here: 4 GB), near its floor
 * on one of a few hundred MB. The writer keeps ≈ 10–14 MB of live objects (statements, keys, the
 * names dictionary, the groups in hand; kept bodies are buffers outside the heap): by default V8 let
 * its old space reach ≈ 46 MB before a full collection, with this maximum it collects at ≈ 13–21 MB.
 * 256 MB is still many times what two groups of 500 records hold. Reaching it stops the writer, and
 * with it the node's exchanges (no unlogged traffic), as any failure of the writer does.
 */
export const WRITER_OLD_MB = 256

/**
 * The embedded log's schema: the shared tables, its meta (the pruning anchor) and its dictionary of
 * names (sqlite-names.ts). Archive files have it too (archive.ts).
 */
export const SQLITE_SCHEMA = logTables({ seq: 'INTEGER', bytes: 'BLOB', batchRanges: true, messageIndex: false }) + `
${MESSAGE_INDEX}
CREATE TABLE IF NOT EXISTS ura_log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
${PENDING_TABLE}
${NAMES_TABLE}
`

/** Whether the signatures table keeps each batch's run of records (a log made before does not, until it is opened for writing). */
function hasBatchRanges (db: DatabaseSync): boolean {
  return (db.prepare('PRAGMA table_info(ura_log_signatures)').all() as Array<{ name: string }>).some(c => c.name === 'first_seq')
}

/**
 * Brings a database of the embedded log's schema up to date: a log made before gains the signatures'
 * batch runs, and trades its plain index of message ids for the bucketed one (built once, on the
 * first start: ≈ 0.6 s per million records).
 */
export function upgradeSchema (db: DatabaseSync): void {
  db.exec(SQLITE_SCHEMA)
  db.exec(`DROP INDEX IF EXISTS ${PLAIN_MESSAGE_INDEX_NAME}`)
  if (!hasBatchRanges(db)) db.exec('ALTER TABLE ura_log_signatures ADD COLUMN first_seq INTEGER; ALTER TABLE ura_log_signatures ADD COLUMN last_seq INTEGER;')
  // Pruning drops the signatures whose run ends at or before the cut.
  db.exec('CREATE INDEX IF NOT EXISTS ura_log_signatures_last_seq ON ura_log_signatures (last_seq);')
}

export class SqliteLogStore implements LogStore {
  readonly kind = 'embedded'
  /** Reads, pruning and schema; appends go through the writer thread. */
  private readonly db: DatabaseSync
  private readonly writer: Worker
  readonly location: LogLocation
  private readonly reader: SqliteLogReader
  private readonly dialect: SqlDialect
  private readonly group: GroupCommit<Appending>
  private readonly keys = new SealKeys()
  private readonly batchMax: number
  private readonly format: RecordFormat
  private readonly pending = new Map<number, { resolve (results: Array<number | string>): void; reject (err: Error): void }>()
  /** Deferred signing (deferred-batches.ts): the writer signs each key's batch this long after it opened. */
  private readonly deferredMs: number | undefined
  /** Deferred signing: records stored whose batch signature is not, as the writer last said. */
  private unsignedRecords = 0
  private nextId = 0
  private stopped: Error | undefined
  private closed = false

  private constructor (db: DatabaseSync, writer: Worker, file: string, opts: LogStoreOptions, deferredMs: number | undefined) {
    this.deferredMs = deferredMs
    this.db = db
    this.location = { kind: 'embedded', file }
    this.reader = new SqliteLogReader(db, file)
    this.dialect = sqliteDialect(db, this.reader.names)
    this.writer = writer
    this.batchMax = opts.batchMax ?? 256
    this.format = opts.format ?? 2
    this.group = new GroupCommit(items => this.writeGroup(items), { windowMs: opts.windowMs ?? 0, depth: 2 })
    writer.on('message', (reply: WriteReply | { warning: string } | { unsigned: number }) => {
      if ('warning' in reply) { process.emitWarning(reply.warning, 'UraMessageLogWarning'); return }
      if ('unsigned' in reply && reply.unsigned !== undefined) this.unsignedRecords = reply.unsigned
      if (!('id' in reply)) return
      const p = this.pending.get(reply.id)
      if (p === undefined) return
      this.pending.delete(reply.id)
      if ('error' in reply) p.reject(new Error(reply.error))
      else p.resolve(reply.results)
    })
    const stop = (err: Error): void => {
      this.stopped ??= err
      for (const p of this.pending.values()) p.reject(this.stopped)
      this.pending.clear()
    }
    writer.on('error', err => { stop(new Error(`the message log writer failed: ${err.message}`)) })
    writer.on('exit', () => { stop(new Error('the message log is closed')) })
  }

  /** Opens (creating if needed) the database file and starts its writer thread. */
  static async open (file: string, opts: LogStoreOptions = {}): Promise<SqliteLogStore> {
    mkdirSync(dirname(file), { recursive: true })
    const db = new DatabaseSync(file)
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
      upgradeSchema(db)
    } catch (err) {
      db.close()
      throw err
    }
    // No inherited loader flags (test runners, profilers): the writer needs plain Node and starts in
    // milliseconds. Its heap is capped (WRITER_YOUNG_MB, WRITER_OLD_MB).
    const deferredMs = opts.signing === 'deferred' ? opts.signWithinMs ?? DEFAULT_SIGN_WITHIN_MS : undefined
    const writer = new Worker(new URL('./sqlite-writer.ts', import.meta.url), {
      name: 'ura-log-writer', workerData: { uraLogWriter: file, ...(deferredMs === undefined ? {} : { deferredMs }) } satisfies WriterData, execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB, maxOldGenerationSizeMb: WRITER_OLD_MB },
    })
    let onMessage!: () => void
    let onError!: (err: Error) => void
    let onExit!: (code: number) => void
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = () => { resolve() }
        onError = reject
        onExit = code => { reject(new Error(`the message log writer exited (${code})`)) }
        writer.once('message', onMessage).once('error', onError).once('exit', onExit)
      })
    } catch (err) {
      db.close()
      await writer.terminate()
      throw err
    } finally {
      // Only these: Node's own listeners on the worker keep its message port working.
      writer.off('message', onMessage).off('error', onError).off('exit', onExit)
    }
    return new SqliteLogStore(db, writer, file, opts, deferredMs)
  }

  get stats (): GroupCommit<unknown>['stats'] { return this.group.stats }

  get waiting (): number { return this.group.waiting }

  get unsigned (): number | undefined { return this.deferredMs === undefined ? undefined : this.unsignedRecords }

  async threadHeap (): Promise<{ used: number; total: number }> {
    const heap = await this.writer.getHeapStatistics()
    return { used: heap.used_heap_size, total: heap.total_heap_size }
  }

  append (entry: LogEntry, identity: SigningIdentity, waitMs = 0): Promise<number> {
    return this.group.append({ entry, identity }, waitMs)
  }

  /** One message for the whole group, one answer back: the writer thread seals, chains and commits it. */
  private async writeGroup (items: Appending[]): Promise<GroupResult[]> {
    const keys: WriteRequest['keys'] = []
    const entries = items.map(({ entry, identity }): WireEntry => [this.keys.numberOf(identity, keys), entry.body, ...contentValues(entry.content)])
    const results = await this.ask(id => ({ id, keys, entries, batchMax: this.batchMax, format: this.format } satisfies WriteRequest))
    return results.map(r => typeof r === 'number' ? r : new Error(r))
  }

  /** Sends the writer one message and waits for its answer. */
  private ask (message: (id: number) => WriteRequest | WriterControl): Promise<Array<number | string>> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.writer.postMessage(message(id))
    })
  }

  async signPending (keys: SigningKeyProvider): Promise<{ signed: number; left: string[] }> {
    // The writer's own open batches are pending too: only a log nobody appends to yet is the last run's.
    if (this.nextId > 0) throw new Error('pending batches are signed when the log is opened, before the first append')
    const batches: SignedBatch[] = []
    const left: string[] = []
    for (const p of this.reader.pendingBatches()) {
      const identity = keys.identityFor(p.signer)
      const rows = await this.reader.batchRows(p.id)
      if (identity === undefined || rows.length === 0) { left.push(p.id); continue }
      const records = rows.map(arrayRecord)
      const { signature } = await signLeaves(p.signer, identity, records.map(recordLeaf), false, false, p.id)
      batches.push({ signature, range: { first: records[0].seq, last: records[records.length - 1].seq } })
    }
    if (batches.length > 0) await this.ask(id => ({ id, signed: batches }))
    return { signed: batches.length, left }
  }

  pendingSigner (signatureId: string): Promise<string | undefined> { return this.reader.pendingSigner(signatureId) }

  byMessageId (messageId: string): Promise<StoredRecord[]> { return this.reader.byMessageId(messageId) }

  batch (signatureId: string): Promise<StoredRecord[]> { return this.reader.batch(signatureId) }

  recordBefore (seq: number): Promise<ChainAnchor | undefined> { return this.reader.recordBefore(seq) }

  batchRows (signatureId: string): Promise<unknown[][]> { return this.reader.batchRows(signatureId) }

  signature (id: string): Promise<BatchSignature | undefined> { return this.reader.signature(id) }

  signatures (ids: string[]): Promise<Map<string, BatchSignature>> { return this.reader.signatures(ids) }

  scan (afterSeq: number, limit: number): Promise<StoredRecord[]> { return this.reader.scan(afterSeq, limit) }

  scanRows (afterSeq: number, limit: number): Promise<unknown[][]> { return this.reader.scanRows(afterSeq, limit) }

  extent (): Promise<{ first: number; last: number } | undefined> { return this.reader.extent() }

  async searchExchanges (query: ExchangeQuery): Promise<ExchangeSummary[]> {
    return this.all(searchSql(query, this.dialect)).map(row => summaryRow(unpackNamed(row, this.reader.names)))
  }

  /** Cells come per stored service, a key or (written before) a text: those of one name are merged. */
  async traffic (query: TrafficQuery): Promise<TrafficCell[]> {
    const cells = new Map<string, TrafficCell>()
    for (const row of this.all(trafficSql(query, this.dialect))) {
      const cell = trafficRow({ ...row, service: unpackName(row.service, this.reader.names) })
      const id = JSON.stringify([cell.service, cell.bucket, cell.bin, cell.failed])
      const held = cells.get(id)
      if (held === undefined) cells.set(id, cell)
      else held.count += cell.count
    }
    return [...cells.values()]
  }

  /** A shared query (`$n` placeholders) on the main-thread connection. */
  private all (sql: Sql): Array<Record<string, unknown>> {
    return this.db.prepare(sql.text.replace(/\$(\d+)/g, '?$1')).all(...(sql.params as Array<string | number | Uint8Array>)) as Array<Record<string, unknown>>
  }

  anchor (): Promise<ChainAnchor | undefined> { return this.reader.anchor() }

  async prune (before: Date): Promise<number> {
    const last = await this.cutBefore(before)
    return last === undefined ? 0 : this.removeThrough(last)
  }

  async cutBefore (before: Date): Promise<ChainAnchor | undefined> {
    const params: unknown[] = []
    const older = this.db.prepare(`SELECT seq, signature_id FROM ura_log_records WHERE seq = (SELECT MAX(seq) FROM ura_log_records WHERE ${this.dialect.until('time', before, v => { params.push(v); return '?' })})`)
      .get(...(params as Array<string | Uint8Array>)) as { seq: number; signature_id: string | Uint8Array } | undefined
    if (older === undefined) return undefined
    // A batch goes whole or stays whole: format 2 rebuilds its proofs from all of its records.
    const batch = (await this.reader.batchRows(unpackId(older.signature_id) as string)).map(row => Number(row[0]))
    let upTo = batch.length > 0 && batch[batch.length - 1] > older.seq ? batch[0] - 1 : older.seq
    // Batches signed deferred interleave: the cut moves back before any batch that goes on past it, pending ones included.
    if (this.db.prepare("SELECT 1 FROM ura_log_meta WHERE key = 'deferred'").get() !== undefined) {
      const signed = this.db.prepare('SELECT MIN(first_seq) AS first FROM ura_log_signatures WHERE last_seq > ?1 AND first_seq <= ?1')
      const pending = this.db.prepare('SELECT MIN(first_seq) AS first FROM ura_log_pending WHERE first_seq <= ?')
      for (;;) {
        const firsts = [signed.get(upTo), pending.get(upTo)].map(row => (row as { first: number | null }).first).filter(f => f !== null)
        if (firsts.length === 0) break
        upTo = Math.min(...firsts.map(Number)) - 1
      }
    }
    const row = this.db.prepare('SELECT seq, hash FROM ura_log_records WHERE seq = ?').get(upTo) as { seq: number; hash: unknown } | undefined
    return row === undefined ? undefined : { seq: Number(row.seq), hash: unpackDigest(row.hash) as string }
  }

  async removeThrough (last: ChainAnchor): Promise<number> {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const held = this.db.prepare('SELECT hash FROM ura_log_records WHERE seq = ?').get(last.seq) as { hash: unknown } | undefined
      if (held === undefined || unpackDigest(held.hash) !== last.hash) throw new Error(`the message log holds no record ${last.seq} with the chain hash to cut at`)
      const { changes } = this.db.prepare('DELETE FROM ura_log_records WHERE seq <= ?').run(last.seq)
      // The cut is at a batch's end, so a batch whose run ends there went whole. Signatures stored
      // without a run (by an earlier ura, whose log has the signature id index) are looked for in the records.
      this.db.prepare('DELETE FROM ura_log_signatures WHERE last_seq <= ?').run(last.seq)
      if (this.db.prepare('SELECT 1 FROM ura_log_signatures WHERE last_seq IS NULL LIMIT 1').get() !== undefined) {
        this.db.prepare('DELETE FROM ura_log_signatures WHERE last_seq IS NULL AND id NOT IN (SELECT DISTINCT signature_id FROM ura_log_records)').run()
      }
      this.db.prepare("INSERT INTO ura_log_meta (key, value) VALUES ('anchor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify({ seq: last.seq, hash: last.hash }))
      this.db.exec('COMMIT')
      return Number(changes)
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.group.drain()
    // Deferred signing: the open batches are signed and stored before the writer stops (should that
    // fail, they stay pending, and the next open signs them).
    if (this.deferredMs !== undefined && this.stopped === undefined) await this.ask(id => ({ id, close: true })).catch(() => {})
    await this.writer.terminate()
    this.db.close()
  }

  /**
   * Test hook: runs raw SQL (tampering tests edit records directly); `$n` placeholders as in
   * PostgreSQL. A parameter that is a UUID or a digest is bound as the store writes it (bytes).
   */
  async exec (sql: string, ...params: unknown[]): Promise<void> {
    const bound = params.map(p => { const id = packId(p); return id !== p ? id : packDigest(p) })
    this.db.prepare(sql.replace(/\$(\d+)/g, '?$1')).run(...(bound as Array<string | number | null | Uint8Array>))
  }
}

/**
 * The reads a chain walk makes, on one connection with its statements prepared once (a walk runs
 * them thousands of times): the store's own, or a read-only one a verification thread opens.
 */
export class SqliteLogReader {
  readonly kind = 'embedded'
  readonly location: LogLocation
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  /** Certificates by fingerprint, read once per connection: thousands of batch signatures share a few. */
  private readonly certificates = new Map<string, string>()
  /** The file's dictionary of names (sqlite-names.ts). */
  readonly names: NameLookup
  private readonly unpackRow: (row: unknown[]) => unknown[]
  /** Whether signatures keep their batch's run of records (a log made before, opened read-only, may not). */
  private readonly ranges: boolean
  /** Whether the log has the table of pending batches (deferred signing; a log made before, opened read-only, may not). */
  private readonly pendingTable: boolean
  constructor (db: DatabaseSync, file: string) {
    this.db = db
    this.location = { kind: 'embedded', file }
    this.names = new NameLookup(db)
    this.unpackRow = hexUnpacker(COLUMN_NAMES, this.names)
    this.ranges = hasBatchRanges(db)
    this.pendingTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ura_log_pending'").get() !== undefined
  }

  /** Deferred signing: the batches whose records are stored and whose signature is not, in log order. */
  pendingBatches (): Array<{ id: string; signer: string; first: number }> {
    if (!this.pendingTable) return []
    return (this.statement('SELECT id, signer, first_seq FROM ura_log_pending ORDER BY first_seq').all() as Array<{ id: unknown; signer: string; first_seq: number }>)
      .map(row => ({ id: unpackId(row.id) as string, signer: row.signer, first: Number(row.first_seq) }))
  }

  async pendingSigner (signatureId: string): Promise<string | undefined> {
    return this.pendingBatch(idForms(signatureId) as string[])?.signer
  }

  /** A pending batch's signer and first record (its id in both stored forms), else undefined. */
  private pendingBatch (forms: string[]): { signer: string; first: number } | undefined {
    if (!this.pendingTable) return undefined
    const row = this.statement('SELECT signer, first_seq FROM ura_log_pending WHERE id IN (?, ?)').get(...forms) as { signer: string; first_seq: number } | undefined
    return row === undefined ? undefined : { signer: row.signer, first: Number(row.first_seq) }
  }

  /** A read-only connection to an existing log file (no writer thread, no schema changes). */
  static open (file: string): SqliteLogReader {
    const db = new DatabaseSync(file, { readOnly: true })
    db.exec('PRAGMA busy_timeout = 5000;')
    return new SqliteLogReader(db, file)
  }

  private statement (sql: string): StatementSync {
    let s = this.statements.get(sql)
    if (s === undefined) { s = this.db.prepare(sql); this.statements.set(sql, s) }
    return s
  }

  /** SQLite is in-process: one read per signature costs no round trip. */
  async signatures (ids: string[]): Promise<Map<string, BatchSignature>> {
    const found = new Map<string, BatchSignature>()
    for (const id of ids) {
      const sig = await this.signature(id)
      if (sig !== undefined) found.set(id, sig)
    }
    return found
  }

  async signature (id: string): Promise<BatchSignature | undefined> {
    const row = this.statement('SELECT id, header, value, chain FROM ura_log_signatures WHERE id IN (?, ?)').get(...(idForms(id) as string[])) as { id: unknown; header: unknown; value: unknown; chain: unknown } | undefined
    if (row === undefined) return undefined
    // Header, value and chain may be kept as bytes (sqlite-signatures.ts).
    const chain = unpackName(row.chain, this.names) as string
    return { id: unpackId(row.id) as string, header: unpackHeader(row.header, this.names) as string, value: unpackDigest(row.value) as string, chain: chain === '' ? [] : chain.split(',').map(fp => this.certificate(fp)) }
  }

  private certificate (fingerprint: string): string {
    let pem = this.certificates.get(fingerprint)
    if (pem === undefined) {
      pem = (this.statement('SELECT pem FROM ura_log_certificates WHERE fingerprint = ?').get(fingerprint) as { pem: string } | undefined)?.pem ?? ''
      // A missing certificate is not remembered: it may be written by the time it is asked for again.
      if (pem !== '') this.certificates.set(fingerprint, pem)
    }
    return pem
  }

  async scan (afterSeq: number, limit: number): Promise<StoredRecord[]> {
    return (await this.scanRows(afterSeq, limit)).map(arrayRecord)
  }

  async batch (signatureId: string): Promise<StoredRecord[]> {
    return (await this.batchRows(signatureId)).map(arrayRecord)
  }

  /** Every record carrying this message id, in log order, whole (complete.ts). */
  async byMessageId (messageId: string): Promise<StoredRecord[]> {
    const rows = this.statement(RECORDS_BY_MESSAGE_ID).all(...(idForms(messageId) as string[])) as Array<Record<string, unknown>>
    return completeRecords(rows.map(row => rowRecord(unpackNamed(row, this.names))), this)
  }

  async recordBefore (seq: number): Promise<ChainAnchor | undefined> {
    const row = this.statement('SELECT seq, hash FROM ura_log_records WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(seq) as { seq: number; hash: unknown } | undefined
    return row === undefined ? undefined : { seq: Number(row.seq), hash: unpackDigest(row.hash) as string }
  }

  /**
   * The rows of one batch signature's records, in order, as scanRows reads them: every record that
   * carries the signature id. The run kept with the signature is a shortcut, not a statement: it is
   * taken when the batch's records begin and end it and those just outside it belong to other
   * batches (a batch signed deferred shares its run with other keys' records). A pending batch's
   * records are read from its first one on.
   * Otherwise (a run or a record tampered with) the records are looked for by their signature id
   * (through the index a log made by an earlier ura has; in the whole table otherwise), so a walk and
   * evidence see the batch as the records hold it, whichever way they read it.
   */
  async batchRows (signatureId: string): Promise<unknown[][]> {
    const forms = idForms(signatureId) as string[]
    const run = this.ranges ? this.statement('SELECT first_seq AS first, last_seq AS last FROM ura_log_signatures WHERE id IN (?, ?)').get(...forms) as { first: number | null; last: number | null } | undefined : undefined
    if (run !== undefined && run.first !== null && run.last !== null) {
      const rows = this.rows('run', 'seq BETWEEN ? AND ? AND signature_id IN (?, ?)', run.first, run.last, ...forms)
      const whole = rows.length > 0 && Number(rows[0][0]) === run.first && Number(rows[rows.length - 1][0]) === run.last &&
        this.statement('SELECT 1 FROM ura_log_records WHERE seq IN (?, ?) AND signature_id IN (?, ?)').get(run.first - 1, run.last + 1, ...forms) === undefined
      if (whole) return rows.map(this.unpackRow)
    }
    const first = run === undefined ? this.pendingBatch(forms)?.first : undefined
    if (first !== undefined) return this.rows('pending', 'seq >= ? AND signature_id IN (?, ?)', first, ...forms).map(this.unpackRow)
    return this.rows('batch', 'signature_id IN (?, ?)', ...forms).map(this.unpackRow)
  }

  /** Records as a long read selects them (SCAN_COLUMNS), by a condition; the statement prepared once under `name`. */
  private rows (name: string, where: string, ...params: Array<string | number>): unknown[][] {
    let s = this.statements.get(name)
    if (s === undefined) {
      s = this.db.prepare(`SELECT ${SCAN_COLUMNS} FROM ura_log_records WHERE ${where} ORDER BY seq`)
      s.setReturnArrays(true)
      this.statements.set(name, s)
    }
    return s.all(...params) as unknown as unknown[][]
  }

  /** scan's rows as read: arrays of the RECORD_COLUMNS in their order (what a verification walks). */
  async scanRows (afterSeq: number, limit: number): Promise<unknown[][]> {
    let scan = this.statements.get('scan')
    if (scan === undefined) {
      scan = this.db.prepare(`SELECT ${SCAN_COLUMNS} FROM ura_log_records WHERE seq > ? ORDER BY seq LIMIT ?`)
      scan.setReturnArrays(true)
      this.statements.set('scan', scan)
    }
    return (scan.all(afterSeq, limit) as unknown as unknown[][]).map(this.unpackRow)
  }

  async extent (): Promise<{ first: number; last: number } | undefined> {
    const row = this.statement('SELECT MIN(seq) AS first, MAX(seq) AS last FROM ura_log_records').get() as { first: number | null; last: number | null }
    return row.first === null ? undefined : { first: Number(row.first), last: Number(row.last) }
  }

  async anchor (): Promise<ChainAnchor | undefined> {
    const row = this.statement("SELECT value FROM ura_log_meta WHERE key = 'anchor'").get() as { value: string } | undefined
    return row === undefined ? undefined : JSON.parse(row.value) as ChainAnchor
  }

  async close (): Promise<void> { this.db.close() }
}
