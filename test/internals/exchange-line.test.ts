import { test } from 'tap'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { logExchange } from '../../gateway/ops/exchange-line.ts'

function capture (level: string): { log: FastifyBaseLogger; lines: string[] } {
  const lines: string[] = []
  const log = pino({ level }, { write: (line: string) => { lines.push(line) } }).child({ requestId: 'req-1' }) as unknown as FastifyBaseLogger
  return { log, lines }
}

test('the exchange line is the line pino itself writes for the same record', async t => {
  const { log, lines } = capture('info')
  const fields = { messageId: 'm-"quoted"\n', protocol: 'rest', client: 'AL-DEV/GOV/K11503002N/e-albania', userId: undefined, status: 200, durationMs: 1.25, error: undefined }
  logExchange(log, fields)
  log.info(fields, 'exchange')
  t.equal(lines.length, 2)
  t.ok(lines[0].endsWith('\n'), 'one line each')
  const [ours, theirs] = lines.map(l => JSON.parse(l) as Record<string, unknown>)
  t.type(ours.time, 'number')
  t.ok(Math.abs((ours.time as number) - (theirs.time as number)) < 1000)
  t.same({ ...ours, time: 0 }, { ...theirs, time: 0 })
  t.same(Object.keys(ours), Object.keys(theirs), 'same fields in the same order')
  t.notOk('userId' in ours, 'absent fields are left out, as pino does')
})

test('below the logger\'s level nothing is written', async t => {
  const { log, lines } = capture('warn')
  logExchange(log, { status: 200 })
  t.equal(lines.length, 0)
})

test('a logger that is not pino gets the record through its info method', async t => {
  const seen: Array<[unknown, unknown]> = []
  const log = { isLevelEnabled: () => true, info: (obj: unknown, msg: unknown) => { seen.push([obj, msg]) } } as unknown as FastifyBaseLogger
  logExchange(log, { status: 503 })
  t.same(seen, [[{ status: 503 }, 'exchange']])
})
