// The public HTTP API, typed from its own document (api-schema.d.ts is generated from
// web/openapi.json, which a Rust test keeps equal to the server's). The page does nothing a script
// could not: every call goes to the server that served the page.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { components } from "./api-schema";

export type Schemas = components["schemas"];
export type TwinState = Schemas["TwinState"];
export type AssetView = Schemas["AssetView"];
export type PlantLayout = Schemas["PlantLayout"];
export type Forecast = Schemas["Forecast"];
export type ShiftKpis = Schemas["ShiftKpis"];
export type Problem = Schemas["Problem"];
export type Alert = Schemas["Alert"];
export type AlertList = Schemas["AlertList"];
export type Feed = Schemas["Feed"];
export type FeedList = Schemas["FeedList"];

const TOKEN_KEY = "takt.token";

/** The bearer token for this tab's session only (never in a URL, never in local storage). */
export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer that is not 2xx, with the server's problem+json words where it gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem ? `${problem.title}: ${problem.detail}` : `HTTP ${status}`);
  }
}

/** Listeners told when the server wants a token (401). A 403 (a read token asked to write) is the
 * caller's error to show: the token is good for what it may do. */
const authListeners = new Set<() => void>();
export function onAuthNeeded(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

function headers(json: boolean): Headers {
  const h = new Headers({ accept: "application/json" });
  if (json) h.set("content-type", "application/json");
  const t = token();
  if (t) h.set("authorization", `Bearer ${t}`);
  return h;
}

async function fail(response: Response): Promise<never> {
  let problem: Problem | null;
  try {
    problem = (await response.json()) as Problem;
  } catch {
    problem = null;
  }
  if (response.status === 401) authListeners.forEach((l) => l());
  throw new ApiError(response.status, problem);
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: headers(false), signal: signal ?? null });
  if (!response.ok) return fail(response);
  return (await response.json()) as T;
}

/** An answer that is a file (a report), to save as it is. */
export async function getBlob(path: string): Promise<Blob> {
  const h = headers(false);
  h.set("accept", "*/*");
  const response = await fetch(path, { headers: h });
  if (!response.ok) return fail(response);
  return response.blob();
}

export async function post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: headers(true),
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
  if (!response.ok) return fail(response);
  return (await response.json()) as T;
}

export async function remove(path: string): Promise<void> {
  const response = await fetch(path, { method: "DELETE", headers: headers(false) });
  if (!response.ok) return fail(response);
}

export type StreamStatus = { connected: boolean; since_ms: number; error: string | null };

/**
 * Follows a server-sent event stream over fetch (so the bearer token goes in a header, not the
 * URL), reconnecting with a growing pause (1 s to 15 s) until `signal` aborts. Each message's
 * data is handed to `onMessage`; `onStatus` hears of every connect and drop.
 */
export async function follow(
  path: string,
  onMessage: (message: EventSourceMessage) => void,
  onStatus: (status: StreamStatus) => void,
  signal: AbortSignal,
): Promise<void> {
  let pause_ms = 1000;
  while (!signal.aborted) {
    try {
      const response = await fetch(path, {
        headers: (() => {
          const h = headers(false);
          h.set("accept", "text/event-stream");
          return h;
        })(),
        signal,
        cache: "no-store",
      });
      if (!response.ok || !response.body) await fail(response);
      onStatus({ connected: true, since_ms: Date.now(), error: null });
      pause_ms = 1000;
      const parser = createParser({ onEvent: onMessage });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      onStatus({ connected: false, since_ms: Date.now(), error: "the server closed the stream" });
    } catch (e) {
      if (signal.aborted) return;
      onStatus({ connected: false, since_ms: Date.now(), error: e instanceof Error ? e.message : String(e) });
    }
    await new Promise((resolve) => setTimeout(resolve, pause_ms));
    pause_ms = Math.min(pause_ms * 2, 15000);
  }
}
