/**
 * Decodes an r1 request target: `/r1/{instance}/{class}/{member}/{subsystem}/{serviceCode}[/path][?query]`.
 * Each identifier segment is percent-decoded on its own and checked against the X-Road character rules.
 * The service path is forwarded as sent, but dot segments and encoded slashes are refused: they would
 * let a caller climb out of the provider's base path.
 */
import { XRoadError } from '../../../protocol/errors.ts'
import { checkServiceId, decodePart, type ServiceId } from '../../../protocol/identifiers.ts'
import { ParseCache } from '../parse-cache.ts'

export interface R1Target {
  serviceId: ServiceId
  /** Service-relative path as sent (still percent-encoded), '' when absent. */
  rawPath: string
  /** Decoded service-relative path, for endpoint and grant matching. */
  path: string
  /** Query string including '?', or ''. */
  query: string
}

/** The five identifier segments, each percent-decoded on its own and checked. */
function parseServiceSegments (text: string): ServiceId {
  const [instance, memberClass, memberCode, subsystemCode, serviceCode] = text.split('/').map(s => decodePart(s, 'Client.BadRequest'))
  return checkServiceId({ instance, memberClass, memberCode, subsystemCode, serviceCode })
}

const SERVICE_IDS = new ParseCache<ServiceId>()

export function parseR1Target (url: string): R1Target {
  const q = url.indexOf('?')
  const pathname = q === -1 ? url : url.slice(0, q)
  const query = q === -1 ? '' : url.slice(q)
  // '/r1/' then instance/class/member/subsystem/serviceCode, then the optional service path.
  let end = 3
  for (let n = 0; n < 5 && end !== -1; n++) end = pathname.indexOf('/', end + 1)
  if (!pathname.startsWith('/r1/') || (end === -1 && pathname.split('/').length < 7)) {
    throw new XRoadError('Client.BadRequest', 'Service path must be /r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}[/path]')
  }
  const serviceId = SERVICE_IDS.get(end === -1 ? pathname.slice(4) : pathname.slice(4, end), parseServiceSegments)
  const rawPath = end === -1 ? '' : pathname.slice(end)
  if (rawPath === '') return { serviceId, rawPath, path: '', query }
  const rest = rawPath.slice(1).split('/')
  const decoded = rest.map(segment => {
    let value = segment
    if (segment.includes('%')) {
      try {
        value = decodeURIComponent(segment)
      } catch {
        throw new XRoadError('Client.BadRequest', `Malformed percent-encoding in path segment '${segment}'`)
      }
    }
    if (value === '.' || value === '..' || value.includes('/') || value.includes('\\')) {
      throw new XRoadError('Client.BadRequest', `Path segment '${segment}' is not allowed (dot segment or encoded slash)`)
    }
    return value
  })
  return { serviceId, rawPath, path: '/' + decoded.join('/'), query }
}
