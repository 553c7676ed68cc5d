/**
 * `GET /listClients`: open to every system that can reach the node, as on an X-Road security server.
 * Lists the members and subsystems of the registry snapshot in service.
 */
import type { FastifyInstance } from 'fastify'
import { clientListJson, clientListXml, listClients, wantsJson } from './list-clients.ts'
import type { GatewayContext } from '../context.ts'

const clientId = {
  type: 'object',
  properties: {
    member_class: { type: 'string' },
    member_code: { type: 'string' },
    subsystem_code: { type: 'string' },
    object_type: { enum: ['MEMBER', 'SUBSYSTEM'] },
    xroad_instance: { type: 'string' },
  },
}

export async function metaRoutes (app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get('/listClients', {
    schema: {
      tags: ['X-Road metaservices'],
      summary: 'Members and subsystems hosted on this node',
      description: 'JSON when the Accept header asks for application/json, otherwise the X-Road clientList XML.',
      querystring: { type: 'object', properties: { xRoadInstance: { type: 'string', description: 'Instance to list; another instance than this node\'s has no clients here' } } },
      response: {
        200: {
          description: 'The clients',
          content: {
            'application/json': { schema: { type: 'object', properties: { member: { type: 'array', items: { type: 'object', properties: { id: clientId, name: { type: 'string' }, subsystem_name: { type: 'string' } } } } } } },
            'text/xml': { schema: { type: 'string', description: 'clientList element (namespace http://x-road.eu/xsd/xroad.xsd)' } },
          },
        },
      },
    },
  }, async (req, reply) => {
    const { xRoadInstance } = req.query as { xRoadInstance?: string }
    const clients = listClients(ctx.registry.config, xRoadInstance)
    return wantsJson(req.headers.accept)
      ? reply.header('content-type', 'application/json; charset=utf-8').send(clientListJson(clients))
      : reply.header('content-type', 'text/xml; charset=utf-8').send(clientListXml(clients))
  })
}
