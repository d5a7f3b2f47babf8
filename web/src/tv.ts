// A shop-floor TV (`#/board?tv`): the board alone, in large type, with nothing to click. The
// address says so; the page's `<html class="tv">` (set by main.tsx) only carries it to the CSS.

/** Whether the address asks for the TV board. */
export function tvMode(): boolean {
  const [path, query] = window.location.hash.split("?");
  return path === "#/board" && new URLSearchParams(query ?? "").has("tv");
}
