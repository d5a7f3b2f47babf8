// The plant's feeds that stopped (an MQTT broker that refused the twin's login, an OPC UA server
// that will not trust it): a banner each, with when and why. Nothing keeps the machines below in
// step with the plant any more, and the shift leader is the one who looks at this screen all day.
// The list is read at the start and every 15 s (a feed stops once; the server does not restart it).
import { ago, plantTime } from "../format";
import { useFeeds } from "./history";

const PROTOCOLS: Record<string, string> = { mqtt: "MQTT", opcua: "OPC UA" };

/** `clock`: this screen's clock, Unix ms; `offset`: the plant's offset from UTC, minutes. */
export function StoppedFeeds(props: { offset: number; clock: number }) {
  // A server that cannot say (unreachable: the connection banner says so) leaves the last list.
  const stopped = (useFeeds()?.feeds ?? []).filter((f) => !f.listening);
  return (
    <>
      {stopped.map((f) => (
        <p class="banner" role="alert" data-testid="feed-banner" key={`${f.protocol} ${f.source}`}>
          The {PROTOCOLS[f.protocol] ?? f.protocol} feed from {f.source} stopped at {plantTime(f.stopped_at_ms, props.offset)}
          {f.stopped_at_ms != null ? ` (${ago(props.clock - f.stopped_at_ms)})` : ""}:{" "}
          {f.stopped_because ?? "no reason given"}. The machines below are no longer kept in step with the plant until
          whoever runs the takt server starts it again.
        </p>
      ))}
    </>
  );
}
