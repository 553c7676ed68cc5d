/**
 * What an index on the message log costs its writer: inserts 50,000 records in groups of 100 (as
 * the group commit does) into the embedded log's schema, WAL and synchronous=FULL, with the indexes
 * the schema makes, then again with some of them dropped, and prints the CPU per record of each,
 * and the bytes written to disk per record (the process's `write_bytes`, the checkpoint at close
 * included). Row making is in both figures; the difference is the indexes'. Half the records are
 * requests and half responses, sharing random UUIDs as message ids.
 *
 *   node bench/log-index-cost.ts [--preload N] [--plain-message-index] [index to drop …]
 *
 * `--preload N`: the log already holds N records (an index's cost may grow with the log).
 * `--plain-message-index`: the index of message ids an earlier ura made (on the id alone) instead
 * of the bucketed one (messagelog/sqlite-message-index.ts). Default index to drop: the message ids'.
 * `--upgrade`: instead, how long a log of --preload records with the plain index takes to trade it
 * for the bucketed one, as the node's first start after the change does (upgradeSchema).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { MESSAGE_INDEX_NAME, PLAIN_MESSAGE_INDEX_NAME } from '../messagelog/sqlite-message-index.ts'
import { SQLITE_SCHEMA, upgradeSchema } from '../messagelog/sqlite-store.ts'
import { diskWrites } from './procs.ts'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { preload: { type: 'string', default: '0' }, 'plain-message-index': { type: 'boolean', default: false }, upgrade: { type: 'boolean', default: false } } })
const plain = values['plain-message-index']
const messageIndex = plain ? PLAIN_MESSAGE_INDEX_NAME : MESSAGE_INDEX_NAME
const dropped = positionals.length > 0 ? positionals : [messageIndex]
const preload = Number(values.preload)
const GROUPS = 500
const PER_GROUP = 100

function rows (db: DatabaseSync): { insert: StatementSync; values: (seq: number) => Array<string | number | null | Uint8Array> } {
  const cols = (db.prepare('PRAGMA table_info(ura_log_records)').all() as Array<{ name: string }>).map(c => c.name)
  const insert = db.prepare(`INSERT INTO ura_log_records (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`)
  let messageId = randomBytes(16)
  const value = (c: string, seq: number): string | number | null | Uint8Array => {
    switch (c) {
      case 'seq': return seq
      case 'time': return new Date(Date.now() + seq).toISOString()
      case 'direction': return seq % 2 === 1 ? 'request' : 'response'
      case 'client': case 'service': case 'signer': return Buffer.from([seq % 61])
      case 'message_id': if (seq % 2 === 1) messageId = randomBytes(16); return messageId
      case 'request_id': case 'signature_id': return randomBytes(16)
      case 'status': return 200
      case 'body': case 'user_id': case 'issue': case 'represented_party': case 'fault': return null
      case 'proof': return ''
      default: return c.endsWith('hash') || c.endsWith('digest') ? randomBytes(64) : 'x'
    }
  }
  return { insert, values: seq => cols.map(c => value(c, seq)) }
}

interface ScratchLog { dir: string; db: DatabaseSync; insert: StatementSync; row: (seq: number) => Array<string | number | null | Uint8Array>; seq: number }

/**
 * A scratch log of the embedded store's schema holding `preload` records, with the plain index of
 * message ids or the bucketed one (built after the load, in one sorted pass, as for a log grown slowly).
 */
function scratchLog (plainIndex: boolean): ScratchLog {
  const dir = mkdtempSync(join(tmpdir(), 'ura-index-cost-'))
  const db = new DatabaseSync(join(dir, 'log.sqlite'))
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;')
  db.exec(SQLITE_SCHEMA)
  db.exec(`DROP INDEX ${MESSAGE_INDEX_NAME}`)
  const { insert, values: row } = rows(db)
  db.exec('BEGIN')
  for (let seq = 1; seq <= preload; seq++) insert.run(...row(seq))
  db.exec('COMMIT')
  db.exec(plainIndex ? `CREATE INDEX ${PLAIN_MESSAGE_INDEX_NAME} ON ura_log_records (message_id)` : SQLITE_SCHEMA)
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  return { dir, db, insert, row, seq: preload }
}

function removeLog (log: ScratchLog): void {
  if (log.db.isOpen) log.db.close()
  rmSync(log.dir, { recursive: true, force: true })
}

function run (drop: string[]): { cpuUs: number; writtenKb: number } {
  const log = scratchLog(plain)
  try {
    const { db, insert, row } = log
    for (const name of drop) db.exec(`DROP INDEX IF EXISTS ${name}`)
    let seq = log.seq
    const written0 = diskWrites()
    const start = process.cpuUsage()
    for (let g = 0; g < GROUPS; g++) {
      db.exec('BEGIN')
      for (let i = 0; i < PER_GROUP; i++) { seq++; insert.run(...row(seq)) }
      db.exec('COMMIT')
    }
    const cpu = process.cpuUsage(start)
    db.close()
    const n = seq - log.seq
    return { cpuUs: (cpu.user + cpu.system) / n, writtenKb: (diskWrites() - written0) / n / 1024 }
  } finally {
    removeLog(log)
  }
}

/** Seconds the upgrade of a log of `preload` records with the plain index takes. */
function upgrade (): number {
  const log = scratchLog(true)
  try {
    const start = performance.now()
    upgradeSchema(log.db)
    return (performance.now() - start) / 1000
  } finally {
    removeLog(log)
  }
}

if (values.upgrade) {
  for (let round = 1; round <= 3; round++) console.log(`round ${round}: a log of ${preload} records trades its plain index of message ids for the bucketed one in ${upgrade().toFixed(2)} s`)
  process.exit(0)
}

console.log(`CPU per record, ${GROUPS * PER_GROUP} records in groups of ${PER_GROUP} after ${preload} records; message ids: ${plain ? 'plain' : 'bucketed'} index; dropped: ${dropped.join(', ')}`)
const show = (r: { cpuUs: number; writtenKb: number }): string => `${r.cpuUs.toFixed(1)} µs, ${r.writtenKb.toFixed(1)} KB written`
for (let round = 1; round <= 3; round++) console.log(`round ${round}: with every index ${show(run([]))}; without ${show(run(dropped))}`)
