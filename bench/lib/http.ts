/** A small HTTP/1.1 client on keep-alive connections (node:http: less overhead than fetch). */
import * as http from 'node:http';

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly port: number,
    connections: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  request(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const request = http.request({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  async postJson(path: string, value: unknown, expectedStatus: number): Promise<unknown> {
    const response = await this.request('POST', path, JSON.stringify(value));
    if (response.status !== expectedStatus) throw new Error(`POST ${path}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
    return JSON.parse(response.body);
  }

  close(): void {
    this.agent.destroy();
  }
}
