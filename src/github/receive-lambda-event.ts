import type { Probot } from "probot";

/** The parts of an API Gateway (REST or HTTP API) or Lambda function URL event a webhook needs. */
export interface LambdaHttpEvent {
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  httpMethod?: string;
  requestContext?: { http?: { method?: string } };
  /** HTTP API (payload 2.0) and function URLs. */
  rawPath?: string;
  rawQueryString?: string;
  cookies?: string[];
  /** REST API (payload 1.0). */
  path?: string;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** Set-Cookie values: `cookies` for HTTP APIs and function URLs, `multiValueHeaders` for REST. */
  cookies?: string[];
  multiValueHeaders?: Record<string, string[]>;
}

const REQUIRED = ["x-github-event", "x-github-delivery", "x-hub-signature-256"] as const;

/**
 * Verifies and handles one webhook delivered as a Lambda HTTP event, answering as
 * Probot's Node middleware does: 200, 400 for a bad signature or body, 500 when a
 * handler failed. Header names are matched without regard to case.
 */
export async function receiveLambdaEvent(
  probot: Probot,
  event: LambdaHttpEvent,
): Promise<LambdaHttpResult> {
  const method = event.requestContext?.http?.method ?? event.httpMethod ?? "POST";
  if (method.toUpperCase() !== "POST") {
    return answer(405, { error: `Unknown route: ${method}; GitHub webhooks are POSTed` });
  }
  const headers = new Map(
    Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const missing = REQUIRED.filter((name) => !headers.get(name));
  if (missing.length > 0) {
    return answer(400, { error: `Required headers missing: ${missing.join(", ")}` });
  }
  const body = event.isBase64Encoded
    ? Buffer.from(event.body ?? "", "base64").toString("utf8")
    : (event.body ?? "");
  try {
    await probot.webhooks.verifyAndReceive({
      id: headers.get("x-github-delivery")!,
      name: headers.get("x-github-event")! as never,
      signature: headers.get("x-hub-signature-256")!,
      payload: body,
    });
    return answer(200, { ok: true });
  } catch (error) {
    // Probot's error handler has logged it, with the delivery id.
    const first = (error as { errors?: unknown[] }).errors?.[0] ?? error;
    const { name, message, status } = first as { name?: string; message?: string; status?: number };
    return answer(status ?? 500, { error: `${name ?? "Error"}: ${message ?? "unknown error"}` });
  }
}

function answer(statusCode: number, body: unknown): LambdaHttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}
