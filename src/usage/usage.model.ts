import { BalanceProperties } from '../wallet/wallet.schemas';

/** OpenAPI schemas of the usage and credits reports (documentation only; the service builds the values). */
const TotalsProperties = {
  requests: { type: 'integer', description: 'Charged requests' },
  prompt_tokens: { type: 'integer' },
  completion_tokens: { type: 'integer' },
  total_tokens: { type: 'integer' },
  cost: { type: 'string', example: '0.42', description: 'USD charged to the wallet' },
  cost_micros: { type: 'integer' },
};

export const UsageSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', example: 'usage' },
    project_id: { type: 'string' },
    key_id: { type: ['string', 'null'], description: 'Set when the report is for one key pair' },
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    ...TotalsProperties,
    days: {
      type: 'array', description: 'Days with usage, oldest first (UTC)',
      items: {
        type: 'object',
        properties: {
          date: { type: 'string', format: 'date' }, ...TotalsProperties,
          models: { type: 'array', items: { type: 'object', properties: { model: { type: 'string' }, ...TotalsProperties } } },
        },
      },
    },
    models: { type: 'array', description: 'Totals per model over the range', items: { type: 'object', properties: { model: { type: 'string' }, ...TotalsProperties } } },
  },
};

export const CreditsSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', example: 'credits' },
    ...BalanceProperties,
  },
};

