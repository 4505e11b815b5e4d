import { timeOrderedBase62 } from '../store/ids';

/** Request ids, assigned by the outer fetch wrapper and looked up by handlers through the Request object. */
const ids = new WeakMap<Request, { id: string; startedMs: number }>();

export function assignRequestId(request: Request, startedMs: number): string {
  const id = `req_${timeOrderedBase62()}`;
  ids.set(request, { id, startedMs });
  return id;
}

export function requestIdOf(request: Request): string {
  return ids.get(request)?.id ?? 'req_unknown';
}

/** When the gateway first saw the request (performance.now()), for its own overhead figure. */
export function requestStartOf(request: Request): number {
  return ids.get(request)?.startedMs ?? performance.now();
}
