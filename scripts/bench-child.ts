/**
 * Shared by the benchmark's child servers: report the port, stop on SIGTERM/SIGINT, and never outlive
 * the parent (it holds our stdin open; end of input means it is gone).
 */
export function runAsBenchChild(server: { port?: number; stop(force?: boolean): unknown }): void {
  console.log(`listening ${server.port}`);
  const stop = () => {
    server.stop(true);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  (async () => {
    try {
      for await (const _ of Bun.stdin.stream()) {
        // nothing to read; the parent never writes
      }
    } catch {}
    stop();
  })();
}
