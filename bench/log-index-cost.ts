/**
 * What an index on the message log costs its writer: inserts 50,000 records in groups of 100 (as
 * the group commit does) into the embedded log's table, WAL and synchronous=FULL, with the indexes
 * the schema makes, then again with some of them dropped, and prints the CPU per record of each,
 * and the bytes written to disk per record (the process's `write_bytes`, the checkpoint at close
 * included). Row making is in both figures; the difference is the indexes'.
 *
 *   node bench/log-index-cost.ts [index to drop …]   (default: the time index)
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { logTables } from '../messagelog/schema.ts'
import { diskWrites } from './procs.ts'

const dropped = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['ura_log_records_time']
const GROUPS = 500
const PER_GROUP = 100

function run (drop: string[]): { cpuUs: number; writtenKb: number } {
  const dir = mkdtempSync(join(tmpdir(), 'ura-index-cost-'))
  const db = new DatabaseSync(join(dir, 'log.sqlite'))
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;')
    db.exec(logTables({ seq: 'INTEGER', bytes: 'BLOB', batchRanges: false }))
    for (const name of drop) db.exec(`DROP INDEX IF EXISTS ${name}`)
    const cols = (db.prepare('PRAGMA table_info(ura_log_records)').all() as Array<{ name: string }>).map(c => c.name)
    const insert = db.prepare(`INSERT INTO ura_log_records (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`)
    const clients = Array.from({ length: 61 }, (_, i) => `AL-DEV/NJQV/L2160300${i}L/sistemi`)
    const value = (c: string, seq: number): string | number | null => {
      switch (c) {
        case 'seq': return seq
        case 'time': return new Date(Date.now() + seq).toISOString()
        case 'client': return clients[seq % clients.length]
        case 'service': return `AL-DEV/GOV/L01417001D/regjistri-civil/s${seq % 20}`
        case 'message_id': case 'request_id': return randomUUID()
        case 'status': return 200
        case 'body': case 'user_id': case 'issue': case 'represented_party': case 'fault': return null
        case 'proof': return '[]'
        default: return c.endsWith('hash') || c.endsWith('digest') ? randomBytes(64).toString('base64') : 'x'
      }
    }
    let seq = 0
    const written0 = diskWrites()
    const start = process.cpuUsage()
    for (let g = 0; g < GROUPS; g++) {
      db.exec('BEGIN')
      for (let i = 0; i < PER_GROUP; i++) { seq++; insert.run(...cols.map(c => value(c, seq))) }
      db.exec('COMMIT')
    }
    const cpu = process.cpuUsage(start)
    db.close()
    return { cpuUs: (cpu.user + cpu.system) / seq, writtenKb: (diskWrites() - written0) / seq / 1024 }
  } finally {
    if (db.isOpen) db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`CPU per record, ${GROUPS * PER_GROUP} records in groups of ${PER_GROUP}; dropped: ${dropped.join(', ')}`)
const show = (r: { cpuUs: number; writtenKb: number }): string => `${r.cpuUs.toFixed(1)} µs, ${r.writtenKb.toFixed(1)} KB written`
for (let round = 1; round <= 3; round++) console.log(`round ${round}: with every index ${show(run([]))}; without ${show(run(dropped))}`)
