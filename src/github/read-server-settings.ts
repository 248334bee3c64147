/** The server's settings are read in src/settings; these names stay for their importers. */
export { readServerSettings, SettingsError, type ServerSettings } from "../settings/index.js";
