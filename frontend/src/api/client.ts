// The one way the app talks to the portal: same-origin fetch with the session cookie, the CSRF
// token on every state-changing call, and RFC 9457 problems turned into ApiError so every page can
// show the API's own words.
import type { Problem, Reason } from "./types";

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly rule: string | undefined;
  readonly problems: FieldProblem[];
  readonly requestId: string | undefined;

  constructor(status: number, p: Partial<Problem> | undefined, fallback: string) {
    const detail = p?.detail || p?.title || fallback;
    super(detail);
    this.status = status;
    this.code = p?.code ?? "unknown";
    this.detail = detail;
    this.requestId = p?.instance;
    const report = (p?.report ?? {}) as { rule?: unknown; problems?: unknown };
    this.rule = typeof report.rule === "string" ? report.rule : undefined;
    this.problems = Array.isArray(report.problems)
      ? report.problems.filter(
          (x): x is FieldProblem =>
            typeof x === "object" && x !== null && typeof (x as FieldProblem).message === "string",
        )
      : [];
  }
}

export interface Client {
  csrf: string;
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  send<T>(method: "POST" | "DELETE", path: string, body?: unknown): Promise<T>;
  /** A POST whose answer is a file (CSV exports); resolves to the blob and its digest header.
   * With no body it is a GET (the audit export, whose reason travels as a reason token). */
  download(path: string, body?: unknown): Promise<{ blob: Blob; digest: string | null; filename: string }>;
  /** Seals a reason into a short-lived token (POST /api/v1/reason-tokens) for the GET requests that
   * need one: reasons never travel in URLs, where history and proxy logs would keep them. Returns
   * the query parameter value. */
  reasonToken(reason: Reason): Promise<string>;
}

async function fail(resp: Response): Promise<never> {
  let p: Partial<Problem> | undefined;
  const text = await resp.text();
  try {
    p = JSON.parse(text) as Partial<Problem>;
  } catch {
    p = undefined;
  }
  const fallback = resp.status === 404 ? "this feature is not available on this server (404)" : `${resp.status} ${resp.statusText}`;
  throw new ApiError(resp.status, p, text && !p ? `${fallback}: ${text.slice(0, 200)}` : fallback);
}

async function call(method: string, path: string, csrf: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ?? null,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, undefined, "the portal could not be reached; check your connection and try again");
  }
  if (!resp.ok) await fail(resp);
  return resp;
}

export function newClient(): Client {
  const c: Client = {
    csrf: "",
    async get<T>(path: string, signal?: AbortSignal): Promise<T> {
      const r = await call("GET", path, c.csrf, undefined, signal);
      return (await r.json()) as T;
    },
    async send<T>(method: "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
      const r = await call(method, path, c.csrf, body);
      if (r.status === 204) return undefined as T;
      const ct = r.headers.get("Content-Type") ?? "";
      return (ct.includes("json") ? await r.json() : await r.text()) as T;
    },
    async download(path: string, body?: unknown) {
      const r = await call(body === undefined ? "GET" : "POST", path, c.csrf, body);
      const cd = r.headers.get("Content-Disposition") ?? "";
      const m = /filename="?([^";]+)"?/.exec(cd);
      return { blob: await r.blob(), digest: r.headers.get("X-Content-SHA256"), filename: m?.[1] ?? "export.csv" };
    },
    async reasonToken(reason: Reason): Promise<string> {
      const r = await call("POST", "/api/v1/reason-tokens", c.csrf, { reason });
      const t = (await r.json()) as { token: string };
      return t.token;
    },
  };
  return c;
}

/** Query string from defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}
