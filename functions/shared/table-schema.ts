/**
 * The one description of Meridian's single DynamoDB table: attribute names, the index and the TTL
 * attribute. The CDK storage construct, the local platform's CreateTable and the runtime key module
 * all read it, so the three cannot drift apart.
 */
export const TABLE_SCHEMA = Object.freeze({
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  gsi1: Object.freeze({ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }),
});

/** Every key attribute, all strings: what CreateTable's AttributeDefinitions needs. */
export const KEY_ATTRIBUTES: readonly string[] = [
  TABLE_SCHEMA.partitionKey,
  TABLE_SCHEMA.sortKey,
  TABLE_SCHEMA.gsi1.partitionKey,
  TABLE_SCHEMA.gsi1.sortKey,
];
