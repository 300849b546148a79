/**
 * Destination configurations: finding the one a request names, filling in AWS's defaults, merging
 * an UpdateDestination into it, and rendering it as DescribeDeliveryStream's description.
 */
import { InvalidArgumentException } from '../protocol/errors.js';
import { checkBufferingHints } from './checks.js';
import { DESTINATION_KINDS, type Config, type Destination, type DestinationKind } from './model.js';

export const FIRST_DESTINATION_ID = 'destinationId-000000000001';

/** Configuration members of an Update whose Create/Describe counterparts have other names. */
const UPDATE_MEMBER_NAMES: Readonly<Record<string, string>> = {
  S3Update: 'S3Configuration',
  S3BackupUpdate: 'S3BackupConfiguration',
};

/** Configuration members whose descriptions have other names. */
const DESCRIPTION_MEMBER_NAMES: Readonly<Record<string, string>> = {
  S3Configuration: 'S3DestinationDescription',
  S3BackupConfiguration: 'S3BackupDescription',
};

/** Members a description leaves out (secrets). */
const SECRET_MEMBERS: ReadonlySet<string> = new Set(['Password', 'AccessKey', 'HECToken', 'PrivateKey', 'KeyPassphrase']);

const OPENSEARCH_KINDS: ReadonlySet<DestinationKind> = new Set(['Elasticsearch', 'Amazonopensearchservice', 'AmazonOpenSearchServerless']);

/** The one destination a CreateDeliveryStream request configures, with defaults filled in. */
export function destinationFromCreate(input: Config): Destination {
  const given: { kind: DestinationKind; config: Config }[] = [];
  if (input.S3DestinationConfiguration !== undefined) given.push({ kind: 'ExtendedS3', config: input.S3DestinationConfiguration });
  for (const kind of DESTINATION_KINDS) {
    const config = input[`${kind}DestinationConfiguration`];
    if (config !== undefined) given.push({ kind, config });
  }
  if (given.length !== 1) {
    throw new InvalidArgumentException('Exactly one destination configuration is supported for a Firehose');
  }
  const { kind, config } = given[0]!;
  checkHints(config, `${input.S3DestinationConfiguration !== undefined ? 'S3' : kind}DestinationConfiguration`);
  return { id: FIRST_DESTINATION_ID, kind, config: withDefaults(kind, structuredClone(config)) };
}

/**
 * The destination after an UpdateDestination: the same kind merges the given members into the
 * current configuration (members not given keep their values), another kind replaces it.
 * Switching to or from an OpenSearch destination is refused, as AWS refuses it.
 */
export function destinationAfterUpdate(current: Destination, input: Config): Destination {
  const given: { kind: DestinationKind; update: Config }[] = [];
  if (input.S3DestinationUpdate !== undefined) given.push({ kind: 'ExtendedS3', update: input.S3DestinationUpdate });
  for (const kind of DESTINATION_KINDS) {
    const update = input[`${kind}DestinationUpdate`];
    if (update !== undefined) given.push({ kind, update });
  }
  if (given.length !== 1) {
    throw new InvalidArgumentException('Exactly one destination update is supported for a Firehose');
  }
  const { kind, update } = given[0]!;
  checkHints(update, `${input.S3DestinationUpdate !== undefined ? 'S3' : kind}DestinationUpdate`);
  const renamed = renameUpdate(update);
  if (kind === current.kind) {
    return { ...current, config: withDefaults(kind, merge(structuredClone(current.config), renamed)) };
  }
  if (OPENSEARCH_KINDS.has(kind) || OPENSEARCH_KINDS.has(current.kind)) {
    throw new InvalidArgumentException(`Changing the destination type to or from ${OPENSEARCH_KINDS.has(kind) ? kind : current.kind} is not supported at this time.`);
  }
  return { ...current, kind, config: withDefaults(kind, renamed) };
}

function checkHints(config: Config, path: string): void {
  checkBufferingHints(config.BufferingHints, `${path}.BufferingHints`);
  for (const nested of ['S3Configuration', 'S3BackupConfiguration', 'S3Update', 'S3BackupUpdate']) {
    if (config[nested] !== undefined) checkBufferingHints(config[nested].BufferingHints, `${path}.${nested}.BufferingHints`);
  }
}

/** The destination as DescribeDeliveryStream lists it. */
export function describeDestination(destination: Destination): Config {
  const out: Config = { DestinationId: destination.id };
  const description = describeConfig(destination.config);
  if (destination.kind === 'ExtendedS3') {
    out.S3DestinationDescription = s3Description(description);
    out.ExtendedS3DestinationDescription = description;
  } else {
    out[`${destination.kind}DestinationDescription`] = description;
  }
  return out;
}

/** The plain S3 part of an Extended S3 description, which AWS lists beside it. */
function s3Description(extended: Config): Config {
  const keys = ['RoleARN', 'BucketARN', 'Prefix', 'ErrorOutputPrefix', 'BufferingHints', 'CompressionFormat', 'EncryptionConfiguration', 'CloudWatchLoggingOptions'];
  const out: Config = {};
  for (const key of keys) if (extended[key] !== undefined) out[key] = extended[key];
  return out;
}

function describeConfig(config: Config): Config {
  const out: Config = {};
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_MEMBERS.has(key)) continue;
    const name = DESCRIPTION_MEMBER_NAMES[key] ?? key;
    out[name] = isObject(value) && name !== key ? describeConfig(withS3Defaults(value)) : isObject(value) ? describeConfig(value) : value;
  }
  return out;
}

function renameUpdate(update: Config): Config {
  const out: Config = {};
  for (const [key, value] of Object.entries(update)) out[UPDATE_MEMBER_NAMES[key] ?? key] = structuredClone(value);
  return out;
}

function merge(target: Config, source: Config): Config {
  for (const [key, value] of Object.entries(source)) {
    if (isObject(value) && isObject(target[key])) merge(target[key], value);
    else target[key] = value;
  }
  return target;
}

function isObject(value: unknown): value is Config {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The defaults AWS describes for an S3 configuration that did not set them. */
function withS3Defaults(config: Config): Config {
  config.BufferingHints = { SizeInMBs: 5, IntervalInSeconds: 300, ...config.BufferingHints };
  config.CompressionFormat ??= 'UNCOMPRESSED';
  config.EncryptionConfiguration ??= { NoEncryptionConfig: 'NoEncryption' };
  config.CloudWatchLoggingOptions ??= { Enabled: false };
  return config;
}

function withDefaults(kind: DestinationKind, config: Config): Config {
  switch (kind) {
    case 'ExtendedS3': {
      // Conversion is on when configured, unless Enabled is false (its default is true).
      const conversion = config.DataFormatConversionConfiguration;
      const converting = conversion !== undefined && conversion.Enabled !== false;
      config.BufferingHints = { SizeInMBs: converting ? 128 : 5, IntervalInSeconds: 300, ...config.BufferingHints };
      withS3Defaults(config);
      config.Prefix ??= '';
      config.S3BackupMode ??= 'Disabled';
      if (config.S3BackupConfiguration !== undefined) withS3Defaults(config.S3BackupConfiguration);
      return config;
    }
    case 'HttpEndpoint':
      config.BufferingHints = { SizeInMBs: 5, IntervalInSeconds: 300, ...config.BufferingHints };
      config.CloudWatchLoggingOptions ??= { Enabled: false };
      config.RequestConfiguration = { ContentEncoding: 'NONE', ...config.RequestConfiguration };
      config.RetryOptions = { DurationInSeconds: 300, ...config.RetryOptions };
      config.S3BackupMode ??= 'FailedDataOnly';
      if (config.S3Configuration !== undefined) withS3Defaults(config.S3Configuration);
      return config;
    case 'Redshift':
      // Redshift buffers by its intermediate S3 configuration's hints, which get S3's defaults.
      config.RetryOptions = { DurationInSeconds: 3600, ...config.RetryOptions };
      config.S3BackupMode ??= 'Disabled';
      config.CloudWatchLoggingOptions ??= { Enabled: false };
      if (config.S3Configuration !== undefined) withS3Defaults(config.S3Configuration);
      if (config.S3BackupConfiguration !== undefined) withS3Defaults(config.S3BackupConfiguration);
      return config;
    default:
      if (config.S3Configuration !== undefined) withS3Defaults(config.S3Configuration);
      config.CloudWatchLoggingOptions ??= { Enabled: false };
      return config;
  }
}
