import type { StreamMeta } from '../storage/catalog.js';

/**
 * A stream's warm throughput as Describe* and UpdateStreamWarmThroughput report it: the target,
 * and the current value, which is the previous one until the change has been applied. Absent
 * when the stream never had one.
 */
export function warmThroughput(meta: StreamMeta, now: number): { TargetMiBps: number; CurrentMiBps: number } | undefined {
  const target = meta.warmThroughputMiBps;
  if (target === undefined) return undefined;
  const applying = meta.warmThroughputAppliedAt !== undefined && now < meta.warmThroughputAppliedAt;
  return { TargetMiBps: target, CurrentMiBps: applying ? (meta.warmThroughputPreviousMiBps ?? 0) : target };
}
