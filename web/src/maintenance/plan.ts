// The maintenance plan as the planner's page reads it: the job's result, its times in plant time,
// and money in the currency the costs were entered in.
import type { Schemas } from "../api";

export type MaintenanceResult = Schemas["MaintenanceResult"];

/** Okabe–Ito colours per machine, in the plan's order. */
export const MACHINE_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"];

export function machineColour(index: number): string {
  return MACHINE_COLOURS[index % MACHINE_COLOURS.length]!;
}
