// Answers the board reads again when the twin's state changes (at most every 5 s) and every 15 s
// while shown: the machines' timelines and stops (/twin/timeline), the buffers' levels, the feeds.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, type FeedList, type Schemas } from "../api";
import { twinPath } from "../plant";

export type TimelineReport = Schemas["TimelineReport"];
export type BufferLevels = Schemas["BufferLevels"];
export type Window = "shift" | "previous";

const REFRESH_MS = 15_000;
const AT_MOST_EVERY_MS = 5_000;

export function useTimeline(window: Window, changes: number): { report: TimelineReport | null; error: string | null } {
  return usePolled<TimelineReport>(twinPath(`/timeline?window=${window}`), changes);
}

export function useBuffers(changes: number): BufferLevels | null {
  return usePolled<BufferLevels>(twinPath("/buffers"), changes).report;
}

/** The plant's feeds: every 15 s (a feed's stop is not a change of the twin's state), and again
 * soon after `asked` changes (the feeds were asked to start again). */
export function useFeeds(asked: number): FeedList | null {
  return usePolled<FeedList>(twinPath("/feeds"), asked).report;
}

function usePolled<T>(path: string, changes: number): { report: T | null; error: string | null } {
  const [report, setReport] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const last = useRef(0);
  const seen = useRef(changes);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  // A change of the twin's state asks for a new read, held back to one per AT_MOST_EVERY_MS. Not
  // at mount: the read below is the first.
  useEffect(() => {
    if (seen.current === changes) return;
    seen.current = changes;
    const wait = last.current + AT_MOST_EVERY_MS - Date.now();
    if (wait <= 0) {
      setTick((t) => t + 1);
      return;
    }
    const timer = setTimeout(() => setTick((t) => t + 1), wait);
    return () => clearTimeout(timer);
  }, [changes]);
  useEffect(() => {
    const stop = new AbortController();
    last.current = Date.now();
    get<T>(path, stop.signal).then(
      (r) => {
        setReport(r);
        setError(null);
      },
      (e: unknown) => {
        if (!stop.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => stop.abort();
  }, [path, tick]);
  return { report, error };
}
