import { of, throwError } from 'rxjs';

import { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';

/** Answers `fetch` calls by URL suffix and records every request. */
export function fakeBackendSrv(routes: Record<string, unknown | Error>) {
  const requests: BackendSrvRequest[] = [];
  const fetch = jest.fn((options: BackendSrvRequest) => {
    requests.push(options);
    const key = Object.keys(routes).find((suffix) => options.url.endsWith(suffix));
    if (key === undefined) {
      return throwError(() => ({ status: 404, data: { message: `no route for ${options.url}` } }));
    }
    const answer = routes[key];
    if (answer instanceof Error) {
      return throwError(() => ({ status: 500, data: { message: answer.message } }));
    }
    return of({ data: answer, status: 200, ok: true } as FetchResponse);
  });
  const srv = { fetch } as unknown as BackendSrv;
  return { srv, fetch, requests };
}
