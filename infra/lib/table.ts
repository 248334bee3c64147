import { Aws, CfnCondition, Fn, RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";

const S = dynamodb.AttributeType.STRING;

/**
 * The store's one table, keyed as docs/queue-store.md says and as `ensureDynamoTable`
 * (src/store/dynamodb-store.ts) creates it: `pk`/`sk`, the overloaded indexes `gsi1` and
 * `gsi2` projecting every attribute, TTL on `expiresAt`. On-demand capacity and
 * point-in-time recovery; kept when the stack is deleted (it holds every build's record).
 * Named `tableName`, or by CloudFormation when that is empty, so that a stack deployed after
 * a delete does not collide with the table it left.
 */
export function kozmicTable(scope: Construct, id: string, tableName: string): dynamodb.Table {
  const named = new CfnCondition(scope, `${id}IsNamed`, {
    expression: Fn.conditionNot(Fn.conditionEquals(tableName, "")),
  });
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: "pk", type: S },
    sortKey: { name: "sk", type: S },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: "expiresAt",
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const n of [1, 2]) {
    table.addGlobalSecondaryIndex({
      indexName: `gsi${n}`,
      partitionKey: { name: `gsi${n}pk`, type: S },
      sortKey: { name: `gsi${n}sk`, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
  (table.node.defaultChild as dynamodb.CfnTable).tableName = Fn.conditionIf(
    named.logicalId,
    tableName,
    Aws.NO_VALUE,
  ).toString();
  return table;
}
