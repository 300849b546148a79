/**
 * The seed every generator in these tests starts from: TRIBUTARY_FUZZ_SEED to replay a run, a
 * fresh one otherwise. Tests print it with their counts.
 */
export function fuzzSeed(): number {
  const fromEnv = process.env.TRIBUTARY_FUZZ_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) | 0;
  return (Date.now() ^ (process.pid << 16)) | 0;
}
