import { describe, expect, test } from 'bun:test';
import {
  histogram, histogramQuantileBound, parseMachineCpu, parseProcStatTicks, parseProcStatusKb, parsePrometheus,
  parseWrkOutput, parseWrkTimeMs, spread, sumSeries,
} from '../../scripts/bench-parse';

// Real wrk 4.1 output (Debian package), one run with a Lua done() line and errors, one clean.
const WRK_WITH_ERRORS = `Running 1s test @ http://127.0.0.1:18931/nope
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   696.36us    1.78ms  18.50ms   91.57%
    Req/Sec    12.34k     6.99k   24.22k    54.55%
  Latency Distribution
     50%  106.00us
     75%  243.00us
     90%    2.06ms
     99%    9.24ms
  13487 requests in 1.10s, 2.55MB read
  Socket errors: connect 0, read 3, write 1, timeout 7
  Non-2xx or 3xx responses: 13487
Requests/sec:  12260.75
Transfer/sec:      2.32MB
bench: conversations=44
`;

const WRK_CLEAN = `Running 1m test @ http://127.0.0.1:40111/v1/chat/completions
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.02ms   20.51ms    1.02s    97.10%
    Req/Sec     2.91k   410.22     3.50k    80.00%
  Latency Distribution
     50%    8.10ms
     75%   11.40ms
     90%   19.00ms
     99%  123.45ms
  174612 requests in 1.00m, 73.20MB read
Requests/sec:   2909.91
Transfer/sec:      1.22MB`;

describe('wrk output', () => {
  test('times in every unit wrk prints', () => {
    expect(parseWrkTimeMs('258.00us')).toBeCloseTo(0.258, 9);
    expect(parseWrkTimeMs('1.33ms')).toBe(1.33);
    expect(parseWrkTimeMs('2.10s')).toBe(2100);
    expect(parseWrkTimeMs('1.00m')).toBe(60_000);
    expect(() => parseWrkTimeMs('12 ms')).toThrow();
    expect(() => parseWrkTimeMs('-nan%')).toThrow();
  });

  test('requests, rate, percentiles, max, errors and done() lines', () => {
    const r = parseWrkOutput(WRK_WITH_ERRORS);
    expect(r.requests).toBe(13487);
    expect(r.durationS).toBeCloseTo(1.1, 9);
    expect(r.requestsPerS).toBe(12260.75);
    expect(r.latencyMs.p50).toBeCloseTo(0.106, 9);
    expect(r.latencyMs.p75).toBeCloseTo(0.243, 9);
    expect(r.latencyMs.p90).toBe(2.06);
    expect(r.latencyMs.p99).toBe(9.24);
    expect(r.latencyMs.max).toBe(18.5);
    expect(r.socketErrors).toEqual({ connect: 0, read: 3, write: 1, timeout: 7 });
    expect(r.non2xx).toBe(13487);
    expect(r.extra).toEqual({ conversations: '44' });
  });

  test('a clean minute-long run has no errors and second-scale max latency', () => {
    const r = parseWrkOutput(WRK_CLEAN);
    expect(r.requests).toBe(174612);
    expect(r.durationS).toBe(60);
    expect(r.latencyMs.p99).toBe(123.45);
    expect(r.latencyMs.max).toBe(1020);
    expect(r.socketErrors).toEqual({ connect: 0, read: 0, write: 0, timeout: 0 });
    expect(r.non2xx).toBe(0);
  });

  test('output without --latency or cut short is refused, not read as zeros', () => {
    const noLatency = WRK_CLEAN.replace(/  Latency Distribution[\s\S]*?(?=  174612)/, '');
    expect(() => parseWrkOutput(noLatency)).toThrow(/run wrk with --latency/);
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:18932 Connection refused')).toThrow(/requests in/);
  });
});

describe('/proc', () => {
  test('utime + stime counted after the last ")" of a command name holding spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = '4242 (bun (a) b) S 1 4242 4242 0 -1 4194304 9000 0 12 0 1234 567 0 0 20 0 9 0 100 1000000 3000 18446744073709551615';
    expect(parseProcStatTicks(stat)).toBe(1234 + 567);
    expect(() => parseProcStatTicks('garbage')).toThrow();
  });

  test('VmHWM and VmRSS in kB', () => {
    const status = 'Name:\tvexrail\nVmPeak:\t 2000000 kB\nVmHWM:\t  121344 kB\nVmRSS:\t   99000 kB\nThreads:\t9\n';
    expect(parseProcStatusKb(status)).toBe(121344);
    expect(parseProcStatusKb(status, 'VmRSS')).toBe(99000);
    expect(() => parseProcStatusKb('Name:\tzombie\n')).toThrow(/VmHWM/);
  });

  test('machine CPU: busy excludes idle and iowait', () => {
    const text = 'cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n';
    expect(parseMachineCpu(text)).toEqual({ busyTicks: 100 + 5 + 50 + 3 + 2, totalTicks: 1000 });
  });
});

const METRICS_BEFORE = `# HELP vexrail_event_loop_lag_ms Delay of a 1 ms timer beyond its due time (ms)
# TYPE vexrail_event_loop_lag_ms histogram
vexrail_event_loop_lag_ms_bucket{le="0.5"} 100
vexrail_event_loop_lag_ms_bucket{le="1"} 110
vexrail_event_loop_lag_ms_bucket{le="2"} 115
vexrail_event_loop_lag_ms_bucket{le="5"} 118
vexrail_event_loop_lag_ms_bucket{le="10"} 120
vexrail_event_loop_lag_ms_bucket{le="+Inf"} 120
vexrail_event_loop_lag_ms_sum 40
vexrail_event_loop_lag_ms_count 120
vexrail_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 10
vexrail_http_requests_total{method="POST",route="/v1/chat/completions",status="402"} 1
vexrail_http_requests_total{method="GET",route="/metrics",status="200"} 3`;

const METRICS_AFTER = `vexrail_event_loop_lag_ms_bucket{le="0.5"} 700
vexrail_event_loop_lag_ms_bucket{le="1"} 910
vexrail_event_loop_lag_ms_bucket{le="2"} 1015
vexrail_event_loop_lag_ms_bucket{le="5"} 1108
vexrail_event_loop_lag_ms_bucket{le="10"} 1119
vexrail_event_loop_lag_ms_bucket{le="+Inf"} 1120
vexrail_event_loop_lag_ms_sum 900.5
vexrail_event_loop_lag_ms_count 1120
vexrail_event_loop_lag_max_ms 31.25
vexrail_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 5010
vexrail_http_requests_total{method="POST",route="/v1/chat/completions",status="402"} 4
vexrail_http_requests_total{method="GET",route="/metrics",status="200"} 4`;

describe('Prometheus text', () => {
  const before = parsePrometheus(METRICS_BEFORE);
  const after = parsePrometheus(METRICS_AFTER);

  test('series with labels, comments skipped', () => {
    expect(after.get('vexrail_event_loop_lag_max_ms')).toBe(31.25);
    expect(before.has('# TYPE vexrail_event_loop_lag_ms histogram')).toBe(false);
    expect(sumSeries(after, 'vexrail_http_requests_total', { route: '/v1/chat/completions' })).toBe(5014);
    expect(sumSeries(after, 'vexrail_http_requests_total', { route: '/v1/chat/completions', status: '200' })
      - sumSeries(before, 'vexrail_http_requests_total', { route: '/v1/chat/completions', status: '200' })).toBe(5000);
  });

  test('histogram difference between two scrapes, and its quantile as a bucket bound', () => {
    const h = histogram(after, 'vexrail_event_loop_lag_ms', before);
    expect(h.bounds).toEqual([0.5, 1, 2, 5, 10]);
    expect(h.cumulative).toEqual([600, 800, 900, 990, 999]);
    expect(h.count).toBe(1000);
    expect(histogramQuantileBound(h, 0.5)).toBe(0.5);
    expect(histogramQuantileBound(h, 0.9)).toBe(2);
    expect(histogramQuantileBound(h, 0.99)).toBe(5);
    expect(histogramQuantileBound(h, 0.999)).toBe(10);
    // One delay above the last bound: the quantile that reaches it is unbounded.
    expect(histogramQuantileBound(h, 1)).toBe(Infinity);
    expect(histogramQuantileBound({ bounds: [1], cumulative: [0], count: 0 }, 0.99)).toBeNaN();
  });
});

describe('spread over runs', () => {
  test('median and range; odd and even counts; non-finite values ignored', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([NaN, 5, Infinity])).toEqual({ median: 5, min: 5, max: 5, n: 1 });
    expect(spread([]).median).toBeNaN();
  });
});
