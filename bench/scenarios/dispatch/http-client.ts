/** The HTTP side of `dispatch`, in its own process: sequential requests on one keep-alive connection. */
import { HttpClient } from '../../lib/http';
import { serve } from '../../lib/ipc';
import { NanoLatencies } from '../../lib/stats';

let client: HttpClient | undefined;

serve({
  async measure({ port, method, path, body, requests, expectedStatus }: { port: number; method: string; path: string; body?: string; requests: number; expectedStatus: number }) {
    client ??= new HttpClient(port, 1);
    const latencies = new NanoLatencies();
    const started = process.hrtime.bigint();
    for (let i = 0; i < requests; i += 1) {
      const t0 = process.hrtime.bigint();
      const response = await client.request(method, path, body);
      latencies.recordNs(Number(process.hrtime.bigint() - t0));
      if (response.status !== expectedStatus) throw new Error(`${method} ${path}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { perSecond: requests / seconds, summary: latencies.summary() };
  },
  close() {
    client?.close();
  },
} as never);
