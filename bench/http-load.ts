/**
 * A load generator in a process of its own (autocannon), so the server it
 * measures keeps its core: `concurrency` keep-alive connections, each asking
 * for a path in a loop for `millis` ms. Prints one JSON line: a Run.
 *
 *   node --import tsx bench/http-load.ts <base URL> <concurrency> <millis> <path template> [bodies.json]
 *
 * In the template, `{random:N}` becomes a random integer below N, per request.
 * With a bodies file (a JSON array of strings), each request is a POST of the
 * next body in turn, as JSON.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [base = '', concurrencyText = '8', millisText = '3000', template = '/', bodiesFile] =
  process.argv.slice(2);
const bodies =
  bodiesFile === undefined ? undefined : (JSON.parse(readFileSync(bodiesFile, 'utf8')) as string[]);
let next = 0;

const pathOf = () =>
  template.replace(/\{random:(\d+)\}/g, (_, bound: string) =>
    String(Math.floor(Math.random() * Number(bound))),
  );

// This process's own CPU: on one machine the load generator takes a share of the cores.
const cpuBefore = process.cpuUsage();
const result = await autocannon({
  url: base,
  connections: Number(concurrencyText),
  duration: Number(millisText) / 1000,
  requests: [
    bodies === undefined
      ? { method: 'GET', setupRequest: (request) => ({ ...request, path: pathOf() }) }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => ({
            ...request,
            path: pathOf(),
            body: bodies[next++ % bodies.length],
          }),
        },
  ],
});
const cpu = process.cpuUsage(cpuBefore);
const failures = result.non2xx + result.errors + result.timeouts;
process.stdout.write(
  `${JSON.stringify({
    count: result.requests.total,
    perSecond: result.requests.total / (Number(millisText) / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, result.requests.total),
  })}\n`,
);
