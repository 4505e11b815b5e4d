import { Elysia } from 'elysia';
import { describe, listOf, PUBLIC_SECURITY } from '../http/docs';
import type { KeysService } from '../keys/keys.service';
import type { ModelCatalog } from './catalog';

const ModelListSchema = listOf({
  type: 'object',
  properties: { id: { type: 'string' }, object: { type: 'string', example: 'model' }, created: { type: 'integer' }, owned_by: { type: 'string' } },
});

export function modelsRoutes(deps: { keys: KeysService; catalog: ModelCatalog }) {
  return new Elysia({ name: 'models-routes' }).get(
    '/v1/models',
    async ({ request }) => {
      // Needs a valid key pair but no credit: listing models is free.
      await deps.keys.authenticate(request.headers.get('x-publishable-key'), request.headers.get('x-secret-key'));
      return new Response(deps.catalog.listBody(), {
        headers: { 'content-type': 'application/json', 'cache-control': 'private, max-age=600' },
      });
    },
    {
      detail: describe({
        tags: ['Models'],
        summary: 'List models',
        description: 'The models this gateway can serve (configured upstreams with a price). Needs no credit; cacheable for 10 minutes.',
        security: PUBLIC_SECURITY,
        ok: { description: 'OpenAI model list', schema: ModelListSchema },
        errors: [401, 500],
      }),
    },
  );
}
