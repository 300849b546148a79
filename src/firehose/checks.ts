/**
 * The checks CreateDeliveryStream and UpdateDestination make beyond the input shapes: rules that
 * span members (buffering hints given together, format conversion's requirements, dynamic
 * partitioning fixed at creation, backups that cannot be turned off again). AWS documents these
 * rules; where it does not publish the message, the texts below are ours and say what is wrong.
 */
import { InvalidArgumentException } from '../protocol/errors.js';
import type { Config, Destination } from './model.js';

/** BufferingHints as a request gives them: both values or neither. */
export function checkBufferingHints(hints: Config | undefined, path: string): void {
  if (hints === undefined) return;
  const size = hints.SizeInMBs !== undefined;
  const interval = hints.IntervalInSeconds !== undefined;
  if (size !== interval) {
    throw new InvalidArgumentException(`${path}: SizeInMBs and IntervalInSeconds must be specified together.`);
  }
}

/** A destination as it would be stored (defaults filled in); `previous` when it is an update. */
export function checkDestination(destination: Destination, previous?: Destination): void {
  if (destination.kind === 'Redshift') return checkRedshift(destination, previous);
  if (destination.kind !== 'ExtendedS3') return;
  const c = destination.config;
  const conversion = c.DataFormatConversionConfiguration;
  if (conversion?.Enabled !== false && conversion !== undefined) {
    if (!conversion.SchemaConfiguration || !conversion.InputFormatConfiguration || !conversion.OutputFormatConfiguration) {
      throw new InvalidArgumentException(
        'DataFormatConversionConfiguration requires SchemaConfiguration, InputFormatConfiguration and OutputFormatConfiguration when it is enabled.',
      );
    }
    if (c.BufferingHints.SizeInMBs < 64) {
      throw new InvalidArgumentException('BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.');
    }
    if (conversion.OutputFormatConfiguration.Serializer?.OrcSerDe !== undefined) {
      throw new InvalidArgumentException('OrcSerDe output is not available on this server: convert to Parquet with ParquetSerDe.');
    }
    if (c.CompressionFormat !== 'UNCOMPRESSED') {
      throw new InvalidArgumentException('CompressionFormat must be UNCOMPRESSED when data format conversion is enabled; the serializer compresses the data.');
    }
  }
  const partitioning = c.DynamicPartitioningConfiguration?.Enabled === true;
  if (previous && previous.kind === 'ExtendedS3') {
    const before = previous.config.DynamicPartitioningConfiguration?.Enabled === true;
    if (before !== partitioning) {
      throw new InvalidArgumentException('Dynamic partitioning can only be enabled when the delivery stream is created, and cannot be disabled.');
    }
    if (previous.config.S3BackupMode === 'Enabled' && c.S3BackupMode === 'Disabled') {
      throw new InvalidArgumentException('S3BackupMode cannot be changed from Enabled to Disabled.');
    }
  }
  if (partitioning && !c.ErrorOutputPrefix) {
    throw new InvalidArgumentException('ErrorOutputPrefix is required when dynamic partitioning is enabled.');
  }
  if (c.S3BackupMode === 'Enabled' && c.S3BackupConfiguration === undefined) {
    throw new InvalidArgumentException('S3BackupConfiguration is required when S3BackupMode is Enabled.');
  }
}

/** The COPY reads the intermediate objects: AWS allows them uncompressed or GZIP, under a prefix without expressions. */
const REDSHIFT_COMPRESSION: ReadonlySet<string> = new Set(['UNCOMPRESSED', 'GZIP']);

function checkRedshift(destination: Destination, previous?: Destination): void {
  const c = destination.config;
  const s3 = c.S3Configuration;
  if (s3 !== undefined) {
    if (!REDSHIFT_COMPRESSION.has(s3.CompressionFormat)) {
      throw new InvalidArgumentException(`CompressionFormat ${s3.CompressionFormat} is not supported for the Redshift destination's S3 configuration: use UNCOMPRESSED or GZIP.`);
    }
    if (typeof s3.Prefix === 'string' && s3.Prefix.includes('!{')) {
      throw new InvalidArgumentException("The Redshift destination's S3 configuration Prefix cannot contain expressions.");
    }
  }
  if (previous && previous.kind === 'Redshift' && previous.config.S3BackupMode === 'Enabled' && c.S3BackupMode === 'Disabled') {
    throw new InvalidArgumentException('S3BackupMode cannot be changed from Enabled to Disabled.');
  }
  if (c.S3BackupMode === 'Enabled' && c.S3BackupConfiguration === undefined) {
    throw new InvalidArgumentException('S3BackupConfiguration is required when S3BackupMode is Enabled.');
  }
}
