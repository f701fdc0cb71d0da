/** Something long-running that can be stopped (a cron job, a group of them). */
export interface Stoppable { stop(): Promise<void> }

/**
 * A cluster-once job: runs only while this hub holds its lease. `gained` starts it, `lost`
 * stops it (the run in flight finishes), so across the cluster one hub runs each job.
 */
export class LeasedJob {
  private job: Stoppable | null = null;
  private stopping: Promise<void> = Promise.resolve();

  constructor(readonly lease: string, private readonly start: () => Stoppable) {}

  get running(): boolean {
    return this.job !== null;
  }

  gained(): void {
    this.job ??= this.start();
  }

  lost(): void {
    const j = this.job;
    this.job = null;
    if (j) this.stopping = this.stopping.then(() => j.stop());
  }

  async stop(): Promise<void> {
    this.lost();
    await this.stopping;
  }
}
