import { GOAL_LABEL, type RolloutGoal } from "@/lib/rollout/settings";

export function goalsLabel(goals: readonly RolloutGoal[]): string {
  return goals.map((g) => GOAL_LABEL[g] ?? g).join(" + ");
}

/** A planned value in the diff: null means the value is not set on the host (from) or is removed (to). */
export function diffValue(v: string | number | null, side: "from" | "to"): string {
  if (v === null) return side === "from" ? "(absent)" : "(delete)";
  return String(v);
}

export const plural = (n: number, word: string, many = `${word}s`) => `${n.toLocaleString("en")} ${n === 1 ? word : many}`;

/** "the canary wave" -> "Canary wave", "wave 2" -> "Wave 2": for table cells. */
export function waveLabel(name: string): string {
  const n = name.replace(/^the /, "");
  return n.charAt(0).toUpperCase() + n.slice(1);
}
