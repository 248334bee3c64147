export * from "./fake-github.js";
export * from "./openapi-validator.js";
export * from "./verify-app-jwt.js";
export * from "./app-key.js";
