import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  type PutCommandOutput,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { InfrastructureError } from "../core/errors.js";

export type Item = Record<string, unknown>;
export interface ItemKey {
  pk: string;
  sk: string;
}
/** A conditional Put as the caller writes it; the table adds its name. */
export type ConditionalPut = Omit<PutCommandInput, "TableName" | "ConditionExpression"> & {
  ConditionExpression: string;
};

/**
 * The store's one DynamoDB table. Each call names what it does (`what`): a failure becomes an
 * InfrastructureError naming it and the table, except a condition that did not hold or a
 * cancelled transaction, which are answers the caller decides on.
 */
export class DynamoTable {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  async get(what: string, key: ItemKey, consistent: boolean): Promise<Item | undefined> {
    const out = await this.send(what, () =>
      this.db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: consistent })),
    );
    return out.Item;
  }

  async put(what: string, item: Item): Promise<void> {
    await this.send(what, () => this.db.send(new PutCommand({ TableName: this.name, Item: item })));
  }

  /** A conditional Put: its output, or undefined when the condition did not hold. */
  async putIf(what: string, input: ConditionalPut): Promise<PutCommandOutput | undefined> {
    try {
      return await this.send(what, () =>
        this.db.send(new PutCommand({ TableName: this.name, ...input })),
      );
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Puts every item in one transaction, each only where no item has its key yet. */
  async putAllNew(what: string, items: Item[]): Promise<void> {
    const TransactItems = items.map((Item) => ({
      Put: { TableName: this.name, Item, ConditionExpression: "attribute_not_exists(pk)" },
    }));
    await this.send(what, () => this.db.send(new TransactWriteCommand({ TransactItems })));
  }

  async query(what: string, input: Omit<QueryCommandInput, "TableName">): Promise<Item[]> {
    const out = await this.send(what, () =>
      this.db.send(new QueryCommand({ TableName: this.name, ...input })),
    );
    return out.Items ?? [];
  }

  /** Every page of a query's items. */
  async queryAll(what: string, input: Omit<QueryCommandInput, "TableName">): Promise<Item[]> {
    const items: Item[] = [];
    let start: QueryCommandInput["ExclusiveStartKey"];
    do {
      const out = await this.send(what, () =>
        this.db.send(
          new QueryCommand({ TableName: this.name, ...input, ExclusiveStartKey: start }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** An UpdateItem: false when its condition did not hold. */
  async update(what: string, input: Omit<UpdateCommandInput, "TableName">): Promise<boolean> {
    try {
      await this.send(what, () =>
        this.db.send(new UpdateCommand({ TableName: this.name, ...input })),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Sets an existing item's `expiresAt` (the table's TTL); nothing when there is no item. */
  async expireAt(what: string, key: ItemKey, expiresAt: number): Promise<void> {
    await this.update(what, {
      Key: key,
      UpdateExpression: "SET expiresAt = :t",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":t": expiresAt },
    });
  }

  /** Deletes the item; true when there was one. */
  async delete(what: string, key: ItemKey): Promise<boolean> {
    const out = await this.send(what, () =>
      this.db.send(new DeleteCommand({ TableName: this.name, Key: key, ReturnValues: "ALL_OLD" })),
    );
    return out.Attributes !== undefined;
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isConditionFailure(error) || (error as Error).name === "TransactionCanceledException") {
        throw error;
      }
      throw new InfrastructureError(
        `DynamoDB ${what} on ${this.name} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === "ConditionalCheckFailedException";
}
