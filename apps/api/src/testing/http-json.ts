import type { HttpErrorBody } from '@modulith/http';

/**
 * A response's JSON body as the type its route answers with. Node's fetch types `json()` as
 * `unknown`: a spec names the route's type (from the contracts that declare it), so tsc checks
 * every field the spec reads. Nothing is checked at run time; the spec's assertions do that.
 */
export async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The body of an error response: every route answers errors in @modulith/http's one format. */
export function readError(response: Response): Promise<HttpErrorBody> {
  return readJson<HttpErrorBody>(response);
}
