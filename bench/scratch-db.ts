/** A scratch PostgreSQL database for a bench or crash script: dropped if it is there, made empty (127.0.0.1:5432, trust auth). */
import pg from 'pg'

export async function freshDatabase (name: string): Promise<void> {
  const admin = new pg.Client('postgres://postgres@127.0.0.1:5432/postgres')
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
}
