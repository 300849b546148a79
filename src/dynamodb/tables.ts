/**
 * Table metadata as stored, and the TableDescription DynamoDB returns for it.
 */
import type { TableDoc } from '../storage/tables.js';

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

export interface AttributeDefinition {
  AttributeName: string;
  AttributeType: 'S' | 'N' | 'B';
}

export interface IndexProjection {
  ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  NonKeyAttributes?: string[];
}

export interface IndexMeta {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: IndexProjection;
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface TableMeta extends TableDoc {
  id: string;
  name: string;
  /** Epoch milliseconds. */
  createdAt: number;
  attributeDefinitions: AttributeDefinition[];
  keySchema: KeySchemaElement[];
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  readCapacity?: number;
  writeCapacity?: number;
  /** When the table last switched to on-demand (epoch ms). */
  payPerRequestSince?: number;
  globalSecondaryIndexes: IndexMeta[];
  localSecondaryIndexes: IndexMeta[];
  tags: Tag[];
  deletionProtection: boolean;
  tableClass?: string;
  streamSpecification?: { StreamEnabled: boolean; StreamViewType?: string };
  pointInTimeRecovery?: boolean;
  /** The TTL attribute while TTL is enabled (recorded; items are not expired). */
  timeToLiveAttribute?: string;
}

export function tableArn(region: string, accountId: string, name: string): string {
  return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
}

/** The table's key attribute names: hash first, then range when there is one. */
export function keyNames(t: { keySchema: KeySchemaElement[] } | { KeySchema: KeySchemaElement[] }): string[] {
  const schema = 'keySchema' in t ? t.keySchema : t.KeySchema;
  const hash = schema.find((k) => k.KeyType === 'HASH')!.AttributeName;
  const range = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return range === undefined ? [hash] : [hash, range];
}

export function attributeType(t: TableMeta, name: string): 'S' | 'N' | 'B' {
  return t.attributeDefinitions.find((d) => d.AttributeName === name)?.AttributeType ?? 'S';
}

export interface DescribeFacts {
  region: string;
  accountId: string;
  status: 'CREATING' | 'ACTIVE' | 'DELETING' | 'UPDATING';
  itemCount: number;
  sizeBytes: number;
}

function throughput(t: { readCapacity?: number; writeCapacity?: number }, billingMode: string) {
  return {
    NumberOfDecreasesToday: 0,
    ReadCapacityUnits: billingMode === 'PROVISIONED' ? t.readCapacity ?? 0 : 0,
    WriteCapacityUnits: billingMode === 'PROVISIONED' ? t.writeCapacity ?? 0 : 0,
  };
}

/** The TableDescription structure of DescribeTable, CreateTable and DeleteTable. */
export function describeTable(t: TableMeta, f: DescribeFacts): Record<string, unknown> {
  const arn = tableArn(f.region, f.accountId, t.name);
  const indexStatus = f.status === 'CREATING' ? 'CREATING' : 'ACTIVE';
  return {
    AttributeDefinitions: t.attributeDefinitions,
    TableName: t.name,
    KeySchema: t.keySchema,
    TableStatus: f.status,
    CreationDateTime: new Date(t.createdAt),
    ProvisionedThroughput: throughput(t, t.billingMode),
    TableSizeBytes: f.sizeBytes,
    ItemCount: f.itemCount,
    TableArn: arn,
    TableId: t.id,
    BillingModeSummary:
      t.billingMode === 'PAY_PER_REQUEST'
        ? { BillingMode: 'PAY_PER_REQUEST', LastUpdateToPayPerRequestDateTime: new Date(t.payPerRequestSince ?? t.createdAt) }
        : { BillingMode: 'PROVISIONED' },
    LocalSecondaryIndexes:
      t.localSecondaryIndexes.length > 0
        ? t.localSecondaryIndexes.map((i) => ({
            IndexName: i.IndexName,
            KeySchema: i.KeySchema,
            Projection: i.Projection,
            IndexSizeBytes: 0,
            ItemCount: 0,
            IndexArn: `${arn}/index/${i.IndexName}`,
          }))
        : undefined,
    GlobalSecondaryIndexes:
      t.globalSecondaryIndexes.length > 0
        ? t.globalSecondaryIndexes.map((i) => ({
            IndexName: i.IndexName,
            KeySchema: i.KeySchema,
            Projection: i.Projection,
            IndexStatus: indexStatus,
            ProvisionedThroughput: throughput(
              { readCapacity: i.ProvisionedThroughput?.ReadCapacityUnits, writeCapacity: i.ProvisionedThroughput?.WriteCapacityUnits },
              t.billingMode,
            ),
            IndexSizeBytes: 0,
            ItemCount: 0,
            IndexArn: `${arn}/index/${i.IndexName}`,
          }))
        : undefined,
    StreamSpecification: t.streamSpecification?.StreamEnabled ? t.streamSpecification : undefined,
    TableClassSummary: t.tableClass ? { TableClass: t.tableClass } : undefined,
    DeletionProtectionEnabled: t.deletionProtection,
  };
}
