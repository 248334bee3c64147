/** The log pages' settings are read in src/settings; these names stay for their importers. */
export { readWebSettings, type WebSettings } from "../settings/index.js";
