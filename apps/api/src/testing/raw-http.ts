import { request } from 'node:http';
import { connect } from 'node:net';

/** One request sent and what came back: headers with lower-case names, the body as text. */
export interface HttpExchange {
  method: string;
  /** Path and query, as sent. */
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One request on a connection of its own (no keep-alive pool: an app with a short headers
 * timeout closes idle connections, and a pooled client would send into a closed socket).
 * Fails when no answer came within `timeoutMs`.
 */
export function exchange(baseUrl: string, method: string, url: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<HttpExchange> {
  return new Promise((resolve, reject) => {
    const sent = request(`${baseUrl}${url}`, { method, headers, agent: false, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const received = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, [value].flat().join(', ')]));
        resolve({ method, url, status: response.statusCode ?? 0, headers: received, body: text });
      });
      response.on('error', reject);
    });
    sent.on('timeout', () => sent.destroy(new Error(`no answer to ${method} ${url} within ${timeoutMs} ms`)));
    sent.on('error', reject);
    sent.end(body);
  });
}

/**
 * Sends a GET's request line and one header, then nothing, and reads what the server says
 * before it closes the connection (a 408 once its headers timeout passes). Fails when the
 * connection is still open after `timeoutMs`.
 */
export function stalledRequest(baseUrl: string, url: string, timeoutMs: number): Promise<HttpExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(baseUrl).port), new URL(baseUrl).hostname);
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (raw += chunk));
    socket.on('error', reject);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer to a stalled ${url} within ${timeoutMs} ms`)));
    socket.on('close', () => {
      const [head, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ method: 'GET', url, status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(`GET ${url} HTTP/1.1\r\nhost: ${new URL(baseUrl).host}\r\n`);
  });
}
