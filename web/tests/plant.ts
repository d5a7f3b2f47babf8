// Talking to the takt server under test as a plant would: events posted to /twin/events.
import type { APIRequestContext } from "@playwright/test";

export const MACHINES = ["Filler", "Labeller", "CasePacker"] as const;

/** A sequence number for this run: increasing, and never one an earlier run used. */
let seq = Date.now() * 100;

/** The current moment as RFC 3339 in the bottling line's offset (+01:00). */
export function stamp(ms: number = Date.now()): string {
  const d = new Date(ms + 3600_000);
  return d.toISOString().replace("Z", "+01:00");
}

export function stateEvent(asset: string, state: string, reason: string, ms: number = Date.now()) {
  return { ts: stamp(ms), asset, kind: "state", seq: ++seq, state, reason };
}

export function countEvent(asset: string, good: number, ms: number = Date.now()) {
  return { ts: stamp(ms), asset, kind: "count", seq: ++seq, good, product: "cola-033" };
}

/** Posts `events` to a server of a test's own (`url`, at `path`), none of them refused. */
export async function sendTo(url: string, events: object[], path = "/twin/events"): Promise<void> {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(events),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { rejected: unknown[] };
  if (body.rejected.length) throw new Error(`events refused: ${JSON.stringify(body.rejected)}`);
}

export async function send(request: APIRequestContext, events: object[]): Promise<void> {
  const response = await request.post("/twin/events", { data: events });
  if (!response.ok()) throw new Error(`POST /twin/events: ${response.status()} ${await response.text()}`);
  const body = (await response.json()) as { accepted: number; rejected: unknown[] };
  if (body.rejected.length) throw new Error(`events refused: ${JSON.stringify(body.rejected)}`);
}
