/** `tributary streams list|describe|create|delete`: the stream lifecycle, as tables or as the API's JSON. */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListStreamsCommand,
  type ListStreamsCommandOutput,
  type StreamDescriptionSummary,
  type StreamSummary,
} from '@aws-sdk/client-kinesis';
import { type Command, Option } from 'commander';
import { type ClientOptions, guarded, kinesisClient, positiveInteger, withClientOptions } from '../client-options.js';
import { formatFields, formatJson, formatTable } from '../table.js';

interface JsonOption {
  json?: boolean;
}

const WAIT_POLL_MS = 250;

function modeOf(mode: string | undefined): string {
  return mode ?? 'PROVISIONED';
}

async function listAll(kinesis: KinesisClient): Promise<{ StreamNames: string[]; StreamSummaries: StreamSummary[] }> {
  const names: string[] = [];
  const summaries: StreamSummary[] = [];
  let page: ListStreamsCommandOutput | undefined;
  do {
    page = await kinesis.send(new ListStreamsCommand(page?.NextToken ? { NextToken: page.NextToken } : {}));
    names.push(...(page.StreamNames ?? []));
    summaries.push(...(page.StreamSummaries ?? []));
  } while (page.HasMoreStreams && page.NextToken);
  return { StreamNames: names, StreamSummaries: summaries };
}

function describeTable(s: StreamDescriptionSummary): string {
  return formatFields([
    ['Name', s.StreamName],
    ['ARN', s.StreamARN],
    ['Status', s.StreamStatus],
    ['Mode', modeOf(s.StreamModeDetails?.StreamMode)],
    ['Open shards', String(s.OpenShardCount ?? '')],
    ['Consumers', s.ConsumerCount === undefined ? undefined : String(s.ConsumerCount)],
    ['Retention', `${s.RetentionPeriodHours ?? ''} hours`],
    ['Encryption', s.EncryptionType ?? 'NONE'],
    ['Key', s.KeyId],
    ['Enhanced metrics', (s.EnhancedMonitoring ?? []).flatMap((m) => m.ShardLevelMetrics ?? []).join(', ') || 'none'],
    ['Created', s.StreamCreationTimestamp?.toISOString()],
  ]);
}

async function waitForStatus(kinesis: KinesisClient, name: string, wanted: string): Promise<StreamDescriptionSummary> {
  for (;;) {
    const { StreamDescriptionSummary: s } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s?.StreamStatus === wanted) return s;
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}

export function registerStreams(program: Command): void {
  const streams = program.command('streams').description('list, describe, create and delete streams');

  withClientOptions(streams.command('list').description('list the streams (a table; --json for the API answer)'))
    .option('--json', 'print the ListStreams answer (every page) as JSON')
    .action((opts: ClientOptions & JsonOption) =>
      guarded(opts, async () => {
        const kinesis = kinesisClient(opts);
        const all = await listAll(kinesis);
        kinesis.destroy();
        if (opts.json) {
          process.stdout.write(formatJson(all));
          return;
        }
        const rows = all.StreamSummaries.length
          ? all.StreamSummaries.map((s) => [
              s.StreamName ?? '',
              s.StreamStatus ?? '',
              modeOf(s.StreamModeDetails?.StreamMode),
              s.StreamCreationTimestamp?.toISOString() ?? '',
            ])
          : all.StreamNames.map((n) => [n, '', '', '']);
        process.stdout.write(formatTable(['NAME', 'STATUS', 'MODE', 'CREATED'], rows));
      }),
    );

  withClientOptions(streams.command('describe').description("show a stream's summary (DescribeStreamSummary)"))
    .argument('<name>', 'the stream')
    .option('--json', 'print the DescribeStreamSummary answer as JSON')
    .action((name: string, opts: ClientOptions & JsonOption) =>
      guarded(opts, async () => {
        const kinesis = kinesisClient(opts);
        const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        kinesis.destroy();
        process.stdout.write(opts.json ? formatJson(out) : describeTable(out.StreamDescriptionSummary ?? ({} as StreamDescriptionSummary)));
      }),
    );

  withClientOptions(streams.command('create').description('create a stream (provisioned with --shards, or --on-demand)'))
    .argument('<name>', 'the stream')
    .addOption(new Option('--shards <n>', 'shards of a provisioned stream (default 1)').argParser(positiveInteger).conflicts('onDemand'))
    .option('--on-demand', 'an on-demand stream, which manages its own shards')
    .option('--wait', 'return once the stream is ACTIVE')
    .option('--json', 'print the stream summary as JSON (after --wait: the active stream)')
    .action((name: string, opts: ClientOptions & JsonOption & { shards?: number; onDemand?: boolean; wait?: boolean }) =>
      guarded(opts, async () => {
        const kinesis = kinesisClient(opts);
        await kinesis.send(
          new CreateStreamCommand(
            opts.onDemand
              ? { StreamName: name, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }
              : { StreamName: name, ShardCount: opts.shards ?? 1 },
          ),
        );
        const summary = opts.wait
          ? await waitForStatus(kinesis, name, 'ACTIVE')
          : ((await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary ?? ({} as StreamDescriptionSummary));
        kinesis.destroy();
        process.stdout.write(
          opts.json ? formatJson({ StreamDescriptionSummary: summary }) : `${name}: ${summary.StreamStatus ?? ''}\n`,
        );
      }),
    );

  withClientOptions(streams.command('delete').description('delete a stream'))
    .argument('<name>', 'the stream')
    .option('--enforce-consumer-deletion', 'delete it even if it has registered consumers')
    .action((name: string, opts: ClientOptions & { enforceConsumerDeletion?: boolean }) =>
      guarded(opts, async () => {
        const kinesis = kinesisClient(opts);
        await kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: opts.enforceConsumerDeletion }));
        kinesis.destroy();
        process.stdout.write(`${name}: DELETING\n`);
      }),
    );
}
