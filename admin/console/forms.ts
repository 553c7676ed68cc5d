/**
 * Form bodies for the console's pages: `multipart/form-data` (the forms that upload a CSR or a
 * letter) read with the platform's own parser (`Response#formData`, as the public onboarding
 * endpoint does), into the same shape @fastify/formbody gives urlencoded forms — strings, arrays of
 * strings for repeated fields — with files as `{ filename, type, bytes }`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AdminError } from '../errors.ts'
import type { FormBody, UploadedFile } from './kit.ts'

export const MULTIPART_LIMIT = 12 * 1024 * 1024

export async function parseMultipart (contentType: string, body: Buffer): Promise<FormBody> {
  let data: FormData
  try {
    data = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData()
  } catch (err) {
    throw new AdminError('Admin.InvalidBody', `the form cannot be read: ${(err as Error).message}`)
  }
  const out: FormBody = {}
  for (const [name, value] of data) {
    if (typeof value === 'string') {
      const had = out[name]
      out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : typeof had === 'string' ? [had, value] : value
    } else {
      const file: UploadedFile = { filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) }
      out[name] = file
    }
  }
  return out
}

export function multipartParser (app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MULTIPART_LIMIT }, async (request: FastifyRequest, body: Buffer) => parseMultipart(String(request.headers['content-type']), body))
}
