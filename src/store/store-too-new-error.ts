import { PermanentError } from "../core/errors.js";

/**
 * What the store holds was written by a newer Kozmic than this one (a rollback without
 * restoring the backup): reading it on would mean a silent downgrade.
 */
export class StoreTooNewError extends PermanentError {}
