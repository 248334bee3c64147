/** Storage settings are read in src/settings; these names stay for their importers. */
export {
  PLAN_MAX_RECEIVES,
  readStorageSettings,
  SettingsError,
  type DynamoSettings,
  type SqsSettings,
  type StorageSettings,
} from "../settings/index.js";
