// The twin's state, live: the first state, then every change from the server-sent event stream,
// handed to the page at most four times a second (a line at 1,000 events/s stays readable and the
// page stays responsive); the connection's status beside it.
import { useEffect, useState } from "preact/hooks";
import { follow, get, type StreamStatus, type TwinState } from "../api";
import { twinPath } from "../plant";

/** `alerts` counts the alert changes heard on the stream (raised, cleared, acknowledged). */
export type Live = { state: TwinState | null; status: StreamStatus; received: number; alerts: number };

const FRAME_MS = 250;

export function useLiveTwin(): Live {
  const [live, setLive] = useState<Live>({
    state: null,
    status: { connected: false, since_ms: Date.now(), error: null },
    received: 0,
    alerts: 0,
  });
  useEffect(() => {
    const stop = new AbortController();
    let latest: TwinState | null = null;
    let received = 0;
    let timer: number | null = null;
    const flush = () => {
      timer = null;
      const state = latest;
      setLive((l) => ({ ...l, state, received }));
    };
    const take = (state: TwinState) => {
      latest = state;
      received += 1;
      timer ??= window.setTimeout(flush, FRAME_MS);
    };
    get<TwinState>(twinPath("/state"), stop.signal).then(take, () => undefined);
    void follow(
      twinPath("/stream"),
      (message) => {
        if (message.event === "alert") {
          setLive((l) => ({ ...l, alerts: l.alerts + 1 }));
          return;
        }
        if (message.event !== "state") return;
        try {
          take(JSON.parse(message.data) as TwinState);
        } catch {
          // A message that is not a state is not shown.
        }
      },
      // A drop counts from the first failed attempt, not from each retry.
      (status) =>
        setLive((l) => ({
          ...l,
          status: status.connected || l.status.connected ? status : { ...status, since_ms: l.status.since_ms },
        })),
      stop.signal,
    );
    return () => {
      stop.abort();
      if (timer !== null) window.clearTimeout(timer);
    };
  }, []);
  return live;
}
