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
