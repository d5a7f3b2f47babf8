// Machine states as people on the shop floor name them, each with a colour from the Okabe–Ito
// palette (told apart with the common colour-vision deficiencies) and always with its word, so
// colour is never the only cue. Each word is set in the ink that keeps it at WCAG AA contrast (4.5:1)
// on its colour (checked by axe-core in the browser tests).

export type StateLook = { word: string; colour: string; ink: string };

const LOOKS: Record<string, StateLook> = {
  RUNNING: { word: "running", colour: "#009E73", ink: "#000" },
  IDLE: { word: "idle", colour: "#F0E442", ink: "#000" },
  STARVED: { word: "starved", colour: "#F0E442", ink: "#000" },
  BLOCKED: { word: "blocked", colour: "#E69F00", ink: "#000" },
  UNPLANNED_DOWN: { word: "down", colour: "#D55E00", ink: "#000" },
  SETUP: { word: "setup", colour: "#56B4E9", ink: "#000" },
  PLANNED_DOWN: { word: "planned stop", colour: "#0072B2", ink: "#fff" },
  OFF: { word: "off shift", colour: "#999999", ink: "#000" },
  UNKNOWN: { word: "unknown", colour: "#FFFFFF", ink: "#000" },
};

export function look(state: string): StateLook {
  return LOOKS[state] ?? { word: state.toLowerCase(), colour: "#FFFFFF", ink: "#000" };
}

/** Every state, in the order a legend lists them. */
export const STATE_ORDER = [
  "RUNNING",
  "SETUP",
  "STARVED",
  "IDLE",
  "BLOCKED",
  "UNPLANNED_DOWN",
  "PLANNED_DOWN",
  "OFF",
  "UNKNOWN",
];

/** Stop reason codes in words, as `/twin/layout` gives them (the scenario's and takt's own). */
export type ReasonWords = Record<string, string>;

/**
 * A stop reason as people read it: its words with the code the plant sent ("bottle jam at the
 * infeed star (E1043)"), the code alone when it has none, null when no reason came (as the
 * library's `Downtime::reason_text`). `short` leaves the code out (the machine card, the chart).
 */
export function reasonText(code: string | null | undefined, words: ReasonWords, short = false): string | null {
  if (!code) return null;
  const said = words[code];
  if (!said) return code;
  return short ? said : `${said} (${code})`;
}
