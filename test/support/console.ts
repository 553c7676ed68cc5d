/**
 * A browser's part in console tests without a browser: a cookie jar, the CSRF token of the last
 * page read, forms posted urlencoded (or multipart), redirects left to the test to follow. Talks
 * HTTPS to the admin listener, trusting the node's CA, optionally with a client certificate.
 */
import { Agent, request } from 'undici'

export interface Page { status: number; headers: Record<string, string | string[] | undefined>; text: string; location?: string }

export class ConsoleClient {
  private readonly base: string
  private readonly agent: Agent
  private readonly cookies = new Map<string, string>()
  /** The `_csrf` value of the last page read. */
  csrf = ''

  constructor (base: string, caPem: string, cert?: { key: string; cert: string }) {
    this.base = base
    this.agent = new Agent({ connect: { ca: caPem, ...(cert ?? {}) } })
  }

  private cookieHeader (): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private keep (headers: Record<string, string | string[] | undefined>): void {
    const set = headers['set-cookie']
    for (const line of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const [pair] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  async send (method: string, path: string, body?: string | FormData, headers: Record<string, string> = {}): Promise<Page> {
    const h: Record<string, string> = { ...headers }
    const cookie = this.cookieHeader()
    if (cookie !== '') h.cookie = cookie
    let payload: string | Buffer | undefined
    if (typeof body === 'string') { payload = body; h['content-type'] ??= 'application/x-www-form-urlencoded' } else if (body !== undefined) {
      const r = new Response(body)
      payload = Buffer.from(await r.arrayBuffer())
      h['content-type'] = r.headers.get('content-type')!
    }
    const res = await request(`${this.base}${path}`, { method: method as 'GET', headers: h, ...(payload === undefined ? {} : { body: payload }), dispatcher: this.agent })
    const text = await res.body.text()
    this.keep(res.headers)
    const m = /name="_csrf" value="([^"]+)"/.exec(text)
    if (m !== null) this.csrf = m[1]
    const location = res.headers.location
    return { status: res.statusCode, headers: res.headers, text, ...(typeof location === 'string' ? { location } : {}) }
  }

  get (path: string): Promise<Page> { return this.send('GET', path) }

  /** Posts a form with the last page's CSRF token (unless `_csrf` is given, or `csrf: false`). */
  post (path: string, fields: Record<string, string | string[]>, opts: { csrf?: boolean } = {}): Promise<Page> {
    const form = new URLSearchParams()
    if (opts.csrf !== false && fields._csrf === undefined) form.set('_csrf', this.csrf)
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one)
    return this.send('POST', path, form.toString())
  }

  hasSession (): boolean { return this.cookies.has('__Host-ura-session') }

  async close (): Promise<void> { await this.agent.close() }
}
