/**
 * `ura queue list | jobs | show | redrive`: the running node's delivery queues, through its admin
 * API (`/admin/v1/queues`). Not the store itself: the embedded queue is held by the node (opening
 * it from a second process would hand its jobs in flight out again), and a re-drive is a change that
 * the admin API authorizes and records in the audit trail with its reason. The operator's API token
 * comes from $URA_ADMIN_TOKEN, never the command line (where other users' `ps` would show it).
 */
import { Agent, request } from 'undici'
import type { UraConfig } from '../config/types.ts'
import { configFrom, readCaFile, trustedCas } from './log.ts'

export const TOKEN_ENV = 'URA_ADMIN_TOKEN'

interface ConnectOptions { config?: string; admin?: string; ca?: string; json?: boolean }

interface Connection {
  call (method: 'GET' | 'POST', path: string, opts?: { body?: unknown; reason?: string }): Promise<{ status: number; json: any; text: string }>
  close (): Promise<void>
}

/** Where the admin API listens: --admin, else node.admin of the configuration. */
function adminUrl (config: UraConfig | undefined, flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag.replace(/\/+$/, '')
  const listen = config?.node.admin?.listen
  if (listen === undefined || listen.port === 0) return undefined
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host
  return `https://${host}:${listen.port}`
}

/** The connection to the admin API, or an exit code after saying what is missing. */
async function connect (values: ConnectOptions): Promise<Connection | number> {
  const token = process.env[TOKEN_ENV]
  if (token === undefined || token === '') {
    console.error(`ura: set ${TOKEN_ENV} to an API token of an operator (ura_<token id>_<secret>)`)
    return 2
  }
  // With --admin and --ca nothing else is needed; otherwise the configuration says where and whom to trust.
  const needsConfig = values.admin === undefined || values.ca === undefined
  const config = needsConfig ? await configFrom(values.config) : undefined
  if (needsConfig && config === undefined) return 2
  const url = adminUrl(config, values.admin)
  if (url === undefined) {
    console.error('ura: the configuration has no node.admin listener with a fixed port: name the admin API with --admin https://host:port')
    return 2
  }
  let ca: string[]
  try {
    ca = values.ca !== undefined ? readCaFile(values.ca) : trustedCas(config!, undefined)
  } catch (err) {
    console.error(`ura: cannot read the CA: ${(err as Error).message}`)
    return 2
  }
  const agent = new Agent({ connect: { ca } })
  return {
    async call (method, path, opts = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` }
      // The admin API reads X-Ura-Reason as UTF-8 bytes; a header carries bytes as Latin-1 text.
      if (opts.reason !== undefined) headers['x-ura-reason'] = Buffer.from(opts.reason, 'utf8').toString('latin1')
      if (opts.body !== undefined) headers['content-type'] = 'application/json'
      const res = await request(`${url}/admin/v1${path}`, { method, headers, dispatcher: agent, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) })
      const text = await res.body.text()
      let json: unknown
      try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
      return { status: res.statusCode, json, text }
    },
    close: () => agent.close(),
  }
}

/** Runs `use` on a connection; a refusal of the admin API is printed (`type: message`) and is exit 1, an unreachable API too. */
async function withApi (values: ConnectOptions, use: (api: Connection) => Promise<number>): Promise<number> {
  const api = await connect(values)
  if (typeof api === 'number') return api
  try {
    return await use(api)
  } catch (err) {
    if (err instanceof Refused) { console.error(err.message); return 1 }
    const cause = (err as { cause?: { message?: string } }).cause?.message
    console.error(`ura: the admin API cannot be reached: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}`)
    return 1
  } finally {
    await api.close()
  }
}

class Refused extends Error {}

async function ok (answer: Promise<{ status: number; json: any; text: string }>): Promise<any> {
  const a = await answer
  if (a.status >= 200 && a.status < 300) return a.json
  const type = typeof a.json?.type === 'string' ? a.json.type as string : `HTTP ${a.status}`
  throw new Refused(`${type}: ${typeof a.json?.message === 'string' ? a.json.message as string : a.text.slice(0, 300)}`)
}

const enc = encodeURIComponent

/** Plain columns: each as wide as its widest cell. */
function table (head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()
  return [line(head), ...rows.map(line)].join('\n')
}

/** An age in ms as `42s`, `12m`, `3h`, `2d`. */
export function age (ms: number): string {
  if (ms <= 0) return '-'
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

/** `ura queue list` — every queue with its counts per state and the age of its oldest waiting job. */
export async function queueList (values: ConnectOptions): Promise<number> {
  return withApi(values, async api => {
    const answer = await ok(api.call('GET', '/queues'))
    if (values.json === true) { console.log(JSON.stringify(answer.items, null, 2)); return 0 }
    type Item = { queue: string; counts: Record<string, number>; oldestMs: number }
    const items = answer.items as Item[]
    if (items.length === 0) { console.log('no delivery queues'); return 0 }
    const states = ['queued', 'active', 'retry', 'delivered', 'dead']
    console.log(table(['QUEUE', ...states.map(s => s.toUpperCase()), 'OLDEST'], items.map(i => [i.queue, ...states.map(s => String(i.counts[s])), age(i.oldestMs)])))
    return 0
  })
}

/** `ura queue jobs <queue> [--state <s>] [--limit <n>]` — a queue's jobs, oldest first, without payloads. */
export async function queueJobs (queue: string, values: ConnectOptions & { state?: string; limit?: number }): Promise<number> {
  return withApi(values, async api => {
    const query = new URLSearchParams()
    if (values.state !== undefined) query.set('state', values.state)
    if (values.limit !== undefined) query.set('limit', String(values.limit))
    const qs = query.size === 0 ? '' : `?${query.toString()}`
    const answer = await ok(api.call('GET', `/queues/${enc(queue)}/jobs${qs}`))
    if (values.json === true) { console.log(JSON.stringify(answer.items, null, 2)); return 0 }
    type Item = { id: string; state: string; attempts: number; createdAt: string; lastError: string | null }
    const items = answer.items as Item[]
    if (items.length === 0) { console.log(`no ${values.state === undefined ? '' : `${values.state} `}jobs in ${queue}`); return 0 }
    console.log(table(['ID', 'STATE', 'ATTEMPTS', 'CREATED', 'LAST ERROR'], items.map(i => [i.id, i.state, String(i.attempts), i.createdAt, i.lastError ?? ''])))
    return 0
  })
}

/** `ura queue show <queue> <id>` — one job as JSON (its payload only for operators who may read bodies). */
export async function queueShow (queue: string, id: string, values: ConnectOptions): Promise<number> {
  return withApi(values, async api => {
    console.log(JSON.stringify(await ok(api.call('GET', `/queues/${enc(queue)}/jobs/${enc(id)}`)), null, 2))
    return 0
  })
}

/** `ura queue redrive <queue> [ids...] --reason <text>` — dead jobs (these, or all) back to queued; recorded in the audit trail. */
export async function queueRedrive (queue: string, ids: string[], values: ConnectOptions & { reason: string }): Promise<number> {
  if (values.reason.trim() === '') { console.error('ura: --reason must say why'); return 2 }
  return withApi(values, async api => {
    const answer = await ok(api.call('POST', `/queues/${enc(queue)}/redrive`, { body: ids.length === 0 ? {} : { ids }, reason: values.reason }))
    if (values.json === true) { console.log(JSON.stringify(answer)); return 0 }
    const n = answer.redriven as number
    console.log(`re-drove ${n} dead job${n === 1 ? '' : 's'} of ${queue}${ids.length === 0 ? '' : ` (${ids.length} named)`}`)
    return 0
  })
}
