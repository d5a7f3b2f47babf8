// The plant's feeds that stopped (an MQTT broker that refused the twin's login, an OPC UA server
// that will not trust it): a banner each, with when and why. Nothing keeps the machines below in
// step with the plant any more, and the shift leader is the one who looks at this screen all day.
// The list is read at the start and every 15 s. Once what refused a feed is mended, the banner's
// button starts the plant's stopped feeds again (POST /twin/feeds/restart, an operate token).
import { useState } from "preact/hooks";
import { post, type FeedList } from "../api";
import { ago, plantTime } from "../format";
import { twinPath } from "../plant";
import { useFeeds } from "./history";

const PROTOCOLS: Record<string, string> = { mqtt: "MQTT", opcua: "OPC UA" };

/** `clock`: this screen's clock, Unix ms; `offset`: the plant's offset from UTC, minutes; `tv`: a
 * shop-floor TV's board, which has nothing to press. */
export function StoppedFeeds(props: { offset: number; clock: number; tv?: boolean }) {
  const [asked, setAsked] = useState(0);
  const [said, setSaid] = useState<string | null>(null);
  // A server that cannot say (unreachable: the connection banner says so) leaves the last list.
  const stopped = (useFeeds(asked)?.feeds ?? []).filter((f) => !f.listening);
  const restart = () => {
    setSaid("asking the feeds to start again…");
    post<FeedList>(twinPath("/feeds/restart"), {}).then(
      (r) => {
        setSaid(`${r.feeds.length} feed(s) asked to start again: the banner goes once each listens`);
        setAsked((a) => a + 1);
      },
      (e: unknown) => setSaid(`not started again: ${e instanceof Error ? e.message : String(e)}`),
    );
  };
  return (
    <>
      {stopped.map((f) => (
        <p class="banner" role="alert" data-testid="feed-banner" key={`${f.protocol} ${f.source}`}>
          The {PROTOCOLS[f.protocol] ?? f.protocol} feed from {f.source} stopped at {plantTime(f.stopped_at_ms, props.offset)}
          {f.stopped_at_ms != null ? ` (${ago(props.clock - f.stopped_at_ms)})` : ""}:{" "}
          {f.stopped_because ?? "no reason given"}. The machines below are no longer kept in step with the plant until it is
          started again, once what refused it is mended.{" "}
          {props.tv ? null : (
            <button type="button" onClick={restart}>
              Start it again
            </button>
          )}
        </p>
      ))}
      {/* What the button did while a banner is up; once the last banner goes, that every feed listens. */}
      {said && !props.tv ? (
        <p class="quiet" role="status" data-testid="feed-restart">
          {stopped.length ? said : "Every feed listens again."}
        </p>
      ) : null}
    </>
  );
}
