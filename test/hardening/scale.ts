/**
 * How big the hardening tests run. `npm test` (and CI) runs them at their CI size, bounded in
 * time; `npm run torture` sets TRIBUTARY_TORTURE=1 and runs the same tests at their torture size.
 */
export const torture = process.env.TRIBUTARY_TORTURE === '1';

/** `ci` in a normal run, `big` under `npm run torture`. */
export function scale(ci: number, big: number): number {
  return torture ? big : ci;
}
