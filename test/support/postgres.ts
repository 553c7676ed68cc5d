/**
 * A scratch PostgreSQL database for one test: created fresh on the local server (127.0.0.1:5432,
 * user postgres, trust auth — what `.ci/run` and the machines provide) and dropped when the test
 * ends. Returns its name, its connection URL and the open admin connection (for tests that take the
 * database away from the node on purpose).
 */
import pg from 'pg'
import type { Test } from 'tap'

export const PG_SERVER = 'postgres://postgres@127.0.0.1:5432'

export async function scratchDatabase (t: Test, prefix: string): Promise<{ name: string; url: string; admin: pg.Client }> {
  const name = `${prefix}_${process.pid}`
  const admin = new pg.Client(`${PG_SERVER}/postgres`)
  try {
    await admin.connect()
  } catch (err) {
    throw new Error(`PostgreSQL must run on 127.0.0.1:5432 with trust auth for user postgres (.ci/run starts it): ${(err as Error).message}`)
  }
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return { name, url: `${PG_SERVER}/${name}`, admin }
}

/**
 * Scratch databases for a whole test file: the returned function creates a fresh one at each call
 * (`<prefix>_<pid>_<n>`) and gives its URL; all of them are dropped when the file's tests end. The
 * server is checked first, so a missing PostgreSQL fails with one clear message.
 */
export function scratchDatabases (t: Test, prefix: string): () => Promise<string> {
  const names: string[] = []
  t.before(async () => {
    const admin = new pg.Client(`${PG_SERVER}/postgres`)
    try {
      await admin.connect()
    } catch (err) {
      throw new Error(`PostgreSQL must run on 127.0.0.1:5432 with trust auth for user postgres (.ci/run starts it): ${(err as Error).message}`)
    }
    await admin.end()
  })
  t.teardown(async () => {
    const admin = new pg.Client(`${PG_SERVER}/postgres`)
    await admin.connect()
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return async () => {
    const name = `${prefix}_${process.pid}_${names.length}`
    names.push(name)
    const admin = new pg.Client(`${PG_SERVER}/postgres`)
    await admin.connect()
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${name}`)
    } finally {
      await admin.end()
    }
    return `${PG_SERVER}/${name}`
  }
}
