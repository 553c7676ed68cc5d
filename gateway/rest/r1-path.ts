/**
 * Decodes an r1 request target: `/r1/{instance}/{class}/{member}/{subsystem}/{serviceCode}[/path][?query]`.
 * Each identifier segment is percent-decoded on its own and checked against the X-Road character rules.
 * The service path is forwarded as sent, but dot segments and encoded slashes are refused: they would
 * let a caller climb out of the provider's base path.
 */
import { XRoadError } from '../errors.ts'
import { checkServiceId, decodePart, type ServiceId } from '../identifiers.ts'
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
  const segments = pathname.split('/')
  // ['', 'r1', instance, class, member, subsystem, serviceCode, ...rest]
  if (segments.length < 7 || segments[1] !== 'r1') {
    throw new XRoadError('Client.BadRequest', 'Service path must be /r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}/{serviceCode}[/path]')
  }
  const serviceId = SERVICE_IDS.get(segments.slice(2, 7).join('/'), parseServiceSegments)
  const rest = segments.slice(7)
  const decoded = rest.map(segment => {
    let value: string
    try {
      value = decodeURIComponent(segment)
    } catch {
      throw new XRoadError('Client.BadRequest', `Malformed percent-encoding in path segment '${segment}'`)
    }
    if (value === '.' || value === '..' || value.includes('/') || value.includes('\\')) {
      throw new XRoadError('Client.BadRequest', `Path segment '${segment}' is not allowed (dot segment or encoded slash)`)
    }
    return value
  })
  return {
    serviceId,
    rawPath: rest.length === 0 ? '' : '/' + rest.join('/'),
    path: rest.length === 0 ? '' : '/' + decoded.join('/'),
    query,
  }
}
