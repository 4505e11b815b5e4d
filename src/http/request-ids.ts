import { randomBase62 } from '../store/ids';

/** Request ids, assigned by the outer fetch wrapper and looked up by handlers through the Request object. */
const ids = new WeakMap<Request, string>();

export function assignRequestId(request: Request): string {
  const id = `req_${randomBase62(20)}`;
  ids.set(request, id);
  return id;
}

export function requestIdOf(request: Request): string {
  return ids.get(request) ?? 'req_unknown';
}
