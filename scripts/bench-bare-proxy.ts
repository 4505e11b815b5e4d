/**
 * Benchmark baseline: the thinnest useful Bun pass-through proxy. It buffers the (small) request body,
 * forwards it with fetch to the upstream given by --upstream, and returns the upstream's status and body
 * stream. No auth, no accounting, no logging: the floor any gateway written on Bun can reach.
 *
 * Started by scripts/bench.ts: binds 127.0.0.1 on a free port, prints `listening <port>` on stdout, and
 * exits when its stdin closes (the bench died) or on SIGTERM/SIGINT.
 */
import { runAsBenchChild } from './bench-child';
const upstreamFlag = process.argv.indexOf('--upstream');
const upstream = upstreamFlag > 0 ? process.argv[upstreamFlag + 1].replace(/\/+$/, '') : '';
if (!upstream) {
  console.error('usage: bun scripts/bench-bare-proxy.ts --upstream http://127.0.0.1:PORT');
  process.exit(2);
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 255,
  async fetch(req) {
    const path = req.url.slice(req.url.indexOf('/', 8));
    const res = await fetch(upstream + path, {
      method: req.method,
      headers: { 'content-type': req.headers.get('content-type') ?? 'application/json' },
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.arrayBuffer(),
    });
    return new Response(res.body, {
      status: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' },
    });
  },
});

runAsBenchChild(server);

export {};
