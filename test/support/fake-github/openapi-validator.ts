import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/** Which of @octokit/openapi's published descriptions to check requests against. */
export type ApiDescription = "api.github.com" | "ghes-3.17" | "ghes-3.18" | "ghes-3.19";

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: object;
  "x-multi-segment"?: boolean;
}

interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: object }> };
}

interface Route {
  template: string;
  method: string;
  regex: RegExp;
  paramNames: string[];
  /** Literal characters in the template: a route with more wins over one with placeholders. */
  specificity: number;
  operation: Operation;
}

export interface MatchedOperation {
  operationId: string;
  template: string;
  pathParams: Record<string, string>;
}

export type ValidationResult =
  | { ok: true; operation: MatchedOperation }
  | { ok: false; status: 404 | 422; operationId?: string; errors: string[] };

const HTTP_METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];

// ajv-formats is CommonJS with a default export; under NodeNext its type is the module.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Checks a request against GitHub's OpenAPI description: the path and method exist, the
 * required path and query parameters are there and match their schemas, and the JSON body
 * matches the operation's request body schema.
 */
export class OpenApiValidator {
  private readonly routes: Route[] = [];
  private readonly bodyValidators = new Map<string, ValidateFunction | null>();
  private readonly paramValidators = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;
  private readonly spec: {
    paths: Record<string, Record<string, Operation>>;
    components: { parameters?: Record<string, Parameter> };
  };

  constructor(description: ApiDescription = "api.github.com") {
    this.spec = loadSpec(description);
    // strict: false because OpenAPI 3.0 adds keywords (example, discriminator, x-*) that
    // are not JSON Schema; ajv understands `nullable` itself.
    this.ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: false });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: "gh", components: this.spec.components } as object);
    this.paramAjv = new Ajv({ strict: false, allErrors: true, coerceTypes: true });
    addFormats(this.paramAjv);
    for (const [template, item] of Object.entries(this.spec.paths)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const params = this.parametersOf(operation);
        const paramNames: string[] = [];
        const source = template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            const m = /^\{([^}]+)\}$/.exec(part);
            if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
            const name = m[1]!;
            paramNames.push(name);
            const multi = params.find((p) => p.in === "path" && p.name === name)?.[
              "x-multi-segment"
            ];
            return multi ? "(.+)" : "([^/]+)";
          })
          .join("");
        this.routes.push({
          template,
          method: method.toUpperCase(),
          regex: new RegExp(`^${source}$`),
          paramNames,
          specificity: template.replace(/\{[^}]+\}/g, "").length,
          operation,
        });
      }
    }
    this.routes.sort((a, b) => b.specificity - a.specificity);
  }

  private readonly paramAjv: Ajv;

  private parametersOf(operation: Operation): Parameter[] {
    return (operation.parameters ?? []).map((p) => {
      if ("$ref" in p) {
        const name = p.$ref.replace("#/components/parameters/", "");
        const resolved = this.spec.components.parameters?.[name];
        if (!resolved) throw new Error(`unresolvable parameter ${p.$ref}`);
        return resolved;
      }
      return p;
    });
  }

  /** Validates one request; `path` excludes any GHES `/api/v3` prefix and the query string. */
  validate(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    hasBody: boolean,
  ): ValidationResult {
    const upper = method.toUpperCase();
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== upper) continue;
      const pathParams: Record<string, string> = {};
      route.paramNames.forEach((name, i) => {
        pathParams[name] = decodeURIComponent(m[i + 1]!);
      });
      const errors = this.checkParameters(route, pathParams, query);
      errors.push(...this.checkBody(route, body, hasBody));
      const operationId = route.operation.operationId;
      if (errors.length > 0) return { ok: false, status: 422, operationId, errors };
      return { ok: true, operation: { operationId, template: route.template, pathParams } };
    }
    return {
      ok: false,
      status: 404,
      errors: [
        pathMatched
          ? `${upper} is not an operation of ${path} in GitHub's API description`
          : `${path} is not a path of GitHub's API description`,
      ],
    };
  }

  private checkParameters(
    route: Route,
    pathParams: Record<string, string>,
    query: URLSearchParams,
  ): string[] {
    const errors: string[] = [];
    for (const param of this.parametersOf(route.operation)) {
      if (param.in !== "path" && param.in !== "query") continue;
      const value =
        param.in === "path" ? pathParams[param.name] : (query.get(param.name) ?? undefined);
      if (value === undefined || value === "") {
        if (param.required) errors.push(`missing required ${param.in} parameter "${param.name}"`);
        continue;
      }
      if (!param.schema) continue;
      const key = `${route.method} ${route.template} ${param.in}:${param.name}`;
      let validate = this.paramValidators.get(key);
      if (!validate) {
        validate = this.paramAjv.compile({
          type: "object",
          properties: { v: param.schema },
        });
        this.paramValidators.set(key, validate);
      }
      if (!validate({ v: value })) {
        for (const e of validate.errors ?? []) {
          errors.push(`${param.in} parameter "${param.name}" ${e.message ?? "is invalid"}`);
        }
      }
    }
    return errors;
  }

  private checkBody(route: Route, body: unknown, hasBody: boolean): string[] {
    const requestBody = route.operation.requestBody;
    if (!requestBody) return [];
    if (!hasBody) return requestBody.required ? ["missing required request body"] : [];
    const key = `${route.method} ${route.template}`;
    let validate = this.bodyValidators.get(key);
    if (validate === undefined) {
      const schema = requestBody.content?.["application/json"]?.schema;
      validate = schema ? this.ajv.compile(rebaseRefs(schema) as object) : null;
      this.bodyValidators.set(key, validate);
    }
    if (!validate) return [];
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `body${e.instancePath.replace(/\//g, ".")} ${e.message ?? "is invalid"}` +
        (e.params && "additionalProperty" in e.params
          ? ` ("${String(e.params.additionalProperty)}")`
          : ""),
    );
  }
}

/** Points `#/components/...` references at the components registered under the id "gh". */
function rebaseRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebaseRefs);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `gh${v}` : rebaseRefs(v);
  }
  return out;
}

const specCache = new Map<ApiDescription, OpenApiValidator["spec"]>();

function loadSpec(description: ApiDescription): OpenApiValidator["spec"] {
  let spec = specCache.get(description);
  if (!spec) {
    const require = createRequire(import.meta.url);
    const file = require.resolve(`@octokit/openapi/generated/${description}.json`);
    spec = JSON.parse(readFileSync(file, "utf8")) as OpenApiValidator["spec"];
    specCache.set(description, spec);
  }
  return spec;
}
