import { InvalidArgumentException, LimitExceededException } from '../../protocol/errors.js';
import { commitmentInForce } from '../account-settings.js';
import type { StreamRef } from './context.js';
import { changeStream, requireStatus } from '../stream-state.js';
import { warmThroughput } from '../warm-throughput.js';
import { defineOperation } from './operation.js';

/** The most warm throughput an on-demand stream may ask for: 10 GiB/s. */
const MAX_WARM_THROUGHPUT_MIBPS = 10 * 1024;

interface Input extends StreamRef {
  WarmThroughputMiBps: number;
}

/**
 * On-demand streams in accounts with a minimum throughput billing commitment. The stream is
 * UPDATING while the new value is applied; the target shows at once, the current value follows
 * when the stream is ACTIVE again.
 */
export const updateStreamWarmThroughput = defineOperation<Input, unknown>('UpdateStreamWarmThroughput', async (k, input) => {
  const stream = await k.resolve(input);
  const account = k.settings.accountId;
  if (stream.meta.mode !== 'ON_DEMAND') {
    throw new InvalidArgumentException(
      `Warm throughput is only supported for streams in ON_DEMAND mode. Stream ${stream.name} under account ${account} ` +
        'is in PROVISIONED mode.',
    );
  }
  if (!(await commitmentInForce(k))) {
    throw new InvalidArgumentException(
      `Warm throughput requires the MinimumThroughputBillingCommitment of account ${account} to be ENABLED.`,
    );
  }
  if (input.WarmThroughputMiBps > MAX_WARM_THROUGHPUT_MIBPS) {
    throw new LimitExceededException(
      `Requested warm throughput of ${input.WarmThroughputMiBps} MiBps for stream ${stream.name} under account ${account} ` +
        `exceeds the limit of ${MAX_WARM_THROUGHPUT_MIBPS} MiBps.`,
    );
  }
  requireStatus(k, stream);
  const now = k.now;
  const meta = await changeStream(k, stream, (m) => {
    requireStatus(k, stream);
    const until = now + k.settings.updateStreamDelayMs;
    return {
      ...m,
      status: 'UPDATING',
      statusUntil: until,
      warmThroughputMiBps: input.WarmThroughputMiBps,
      warmThroughputPreviousMiBps: warmThroughput(m, now)?.CurrentMiBps ?? 0,
      warmThroughputAppliedAt: until,
    };
  });
  return { StreamARN: stream.arn, StreamName: stream.name, WarmThroughput: warmThroughput(meta, now) };
});
