/**
 * The reports (check-run completions) of finished jobs, one lane per installation: a lane
 * runs its reports one after another, lanes run side by side. A job's slot is free once
 * its end is recorded, so an installation GitHub rate-limits holds up only its own
 * reports (one request at a time, not one per waiting job), never other installations'
 * jobs or this runner's slots.
 */
export class ReportLanes {
  private readonly lanes = new Map<number, Promise<void>>();

  /** Runs `report` after the lane's earlier reports; it must not throw. */
  add(installationId: number, report: () => Promise<void>): void {
    const previous = this.lanes.get(installationId) ?? Promise.resolve();
    const next = previous.then(report).finally(() => {
      if (this.lanes.get(installationId) === next) this.lanes.delete(installationId);
    });
    this.lanes.set(installationId, next);
  }

  /** Resolves once every report queued so far has run. */
  async idle(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all(this.lanes.values());
  }
}
