import { ValidationException } from '../../protocol/errors.js';
import type { AttributeDefinition, IndexMeta, KeySchemaElement, TableMeta, Tag } from '../tables.js';
import { defineOperation } from './operation.js';

interface Input {
  AttributeDefinitions: AttributeDefinition[];
  TableName: string;
  KeySchema: KeySchemaElement[];
  LocalSecondaryIndexes?: IndexMeta[];
  GlobalSecondaryIndexes?: IndexMeta[];
  BillingMode?: 'PROVISIONED' | 'PAY_PER_REQUEST';
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: string };
  Tags?: Tag[];
  TableClass?: string;
  DeletionProtectionEnabled?: boolean;
}

const INVALID = 'One or more parameter values were invalid: ';

/** Checks a key schema (of the table or of an index) against the attribute definitions. */
export function checkKeySchema(schema: KeySchemaElement[], definitions: AttributeDefinition[], what = 'KeySchema'): void {
  if (schema[0]!.KeyType !== 'HASH') throw new ValidationException(`Invalid ${what}: The first KeySchemaElement is not a HASH key type`);
  if (schema.length > 1) {
    if (schema[1]!.KeyType !== 'RANGE') throw new ValidationException(`Invalid ${what}: The second KeySchemaElement is not a RANGE key type`);
    if (schema[0]!.AttributeName === schema[1]!.AttributeName) {
      throw new ValidationException(`Invalid ${what}: Both the Hash Key and the Range Key element in the KeySchema have the same name`);
    }
  }
  const defined = new Set(definitions.map((d) => d.AttributeName));
  const missing = schema.filter((k) => !defined.has(k.AttributeName));
  if (missing.length > 0) {
    throw new ValidationException(
      `${INVALID}Some index key attributes are not defined in AttributeDefinitions. Keys: [${schema.map((k) => k.AttributeName).join(', ')}], AttributeDefinitions: [${definitions.map((d) => d.AttributeName).join(', ')}]`,
    );
  }
}

export function checkIndex(index: IndexMeta, definitions: AttributeDefinition[], billingMode: string, global: boolean): IndexMeta {
  checkKeySchema(index.KeySchema, definitions);
  const p = index.Projection;
  if (p.ProjectionType === undefined) throw new ValidationException(`${INVALID}Unknown ProjectionType: null`);
  if (p.ProjectionType === 'INCLUDE' ? !p.NonKeyAttributes : p.NonKeyAttributes !== undefined) {
    throw new ValidationException(
      p.ProjectionType === 'INCLUDE'
        ? `${INVALID}NonKeyAttributes must be specified when ProjectionType is INCLUDE`
        : `${INVALID}ProjectionType is ${p.ProjectionType}, but NonKeyAttributes is specified`,
    );
  }
  if (global && billingMode === 'PROVISIONED' && index.ProvisionedThroughput === undefined) {
    throw new ValidationException(`${INVALID}ProvisionedThroughput should not be null for index: ${index.IndexName}`);
  }
  if (global && billingMode === 'PAY_PER_REQUEST' && index.ProvisionedThroughput !== undefined) {
    throw new ValidationException(
      `${INVALID}ProvisionedThroughput should be null for index: ${index.IndexName} when BillingMode is PAY_PER_REQUEST`,
    );
  }
  const out: IndexMeta = { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: p };
  if (index.ProvisionedThroughput) out.ProvisionedThroughput = index.ProvisionedThroughput;
  return out;
}

export const createTable = defineOperation<Input, unknown>('CreateTable', async (d, input) => {
  const definitions = input.AttributeDefinitions;
  checkKeySchema(input.KeySchema, definitions);
  const billingMode = input.BillingMode ?? 'PROVISIONED';
  if (billingMode === 'PROVISIONED' && input.ProvisionedThroughput === undefined) {
    throw new ValidationException(`${INVALID}ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED`);
  }
  if (billingMode === 'PAY_PER_REQUEST' && input.ProvisionedThroughput !== undefined) {
    throw new ValidationException(`${INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST`);
  }
  const names = new Set<string>();
  for (const def of definitions) {
    if (names.has(def.AttributeName)) throw new ValidationException(`${INVALID}Cannot have two attributes with the same name`);
    names.add(def.AttributeName);
  }
  const gsis = (input.GlobalSecondaryIndexes ?? []).map((i) => checkIndex(i, definitions, billingMode, true));
  const lsis = (input.LocalSecondaryIndexes ?? []).map((i) => checkIndex(i, definitions, billingMode, false));
  const indexNames = new Set<string>();
  for (const i of [...gsis, ...lsis]) {
    if (indexNames.has(i.IndexName)) throw new ValidationException(`${INVALID}Duplicate index name: ${i.IndexName}`);
    indexNames.add(i.IndexName);
  }
  const used = new Set([...input.KeySchema, ...gsis.flatMap((i) => i.KeySchema), ...lsis.flatMap((i) => i.KeySchema)].map((k) => k.AttributeName));
  if (definitions.some((def) => !used.has(def.AttributeName))) {
    throw new ValidationException(
      `${INVALID}Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions`,
    );
  }
  const meta: Omit<TableMeta, 'id' | 'createdAt'> = {
    name: input.TableName,
    attributeDefinitions: definitions.map((a) => ({ AttributeName: a.AttributeName, AttributeType: a.AttributeType })),
    keySchema: input.KeySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
    billingMode,
    globalSecondaryIndexes: gsis,
    localSecondaryIndexes: lsis,
    tags: input.Tags ?? [],
    deletionProtection: input.DeletionProtectionEnabled ?? false,
  };
  if (billingMode === 'PROVISIONED') {
    meta.readCapacity = input.ProvisionedThroughput!.ReadCapacityUnits;
    meta.writeCapacity = input.ProvisionedThroughput!.WriteCapacityUnits;
  }
  if (input.TableClass) meta.tableClass = input.TableClass;
  if (input.StreamSpecification) meta.streamSpecification = input.StreamSpecification;
  const created = await d.createTable(meta);
  // AWS answers CREATING; the table is ACTIVE from the next DescribeTable on.
  return { TableDescription: await d.describe(created, 'CREATING') };
});
