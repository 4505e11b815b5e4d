/** The balance fields every credit view shares (the admin wallet, the publisher's /v1/credits): documentation schema. */
export const BalanceProperties = {
  currency: { type: 'string', example: 'USD' },
  balance: { type: 'string', example: '10.00' },
  held: { type: 'string', description: 'Reserved by requests in flight' },
  available: { type: 'string', description: 'balance - held' },
  balance_micros: { type: 'integer' },
  held_micros: { type: 'integer' },
  available_micros: { type: 'integer' },
};
