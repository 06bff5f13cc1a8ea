/**
 * What the frame cache holds beyond its frames' own bytes. Frames opened in place are views of
 * their run's buffer (../frame-worker.ts), and that buffer lives while any of its frames is cached:
 * the nonces and tags between frames, and frames already evicted, are held too. Those bytes are
 * "stranded"; the cache counts them against its bound, so the memory it reports is the memory
 * it keeps.
 */
export class SharedRuns {
  /** Per buffer shared by cached views: how many are cached, and their bytes. */
  private readonly runs = new Map<ArrayBufferLike, { views: number; viewBytes: number }>();
  private strandedBytes = 0;

  get stranded(): number {
    return this.strandedBytes;
  }

  /** A view entered the cache. */
  added(view: Buffer): void {
    if (view.byteLength === view.buffer.byteLength) return; // it owns its memory: nothing else is held
    let run = this.runs.get(view.buffer);
    if (!run) {
      run = { views: 0, viewBytes: 0 };
      this.runs.set(view.buffer, run);
      this.strandedBytes += view.buffer.byteLength;
    }
    run.views++;
    run.viewBytes += view.byteLength;
    this.strandedBytes -= view.byteLength;
  }

  /** A view left the cache. */
  removed(view: Buffer): void {
    const run = this.runs.get(view.buffer);
    if (!run) return;
    run.views--;
    run.viewBytes -= view.byteLength;
    this.strandedBytes += view.byteLength;
    if (run.views === 0) {
      this.runs.delete(view.buffer);
      this.strandedBytes -= view.buffer.byteLength;
    }
  }

  /** Whether the view's buffer is mostly stranded, so copying the view out would free more than it costs. */
  mostlyStranded(view: Buffer): boolean {
    const run = this.runs.get(view.buffer);
    return run !== undefined && run.viewBytes * 2 < view.buffer.byteLength;
  }
}
