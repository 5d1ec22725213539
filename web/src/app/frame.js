// Batches DOM work to at most one pass per animation frame: streaming events only mark
// things dirty; the frame callback renders each dirty thing once, then runs the
// after-frame hooks (auto-scroll).

export class FrameScheduler {
  constructor() {
    this.dirty = new Set();
    this.after = [];
    this.pending = false;
    this.run = this.run.bind(this);
  }

  /** Runs `task` in the next frame (once, however often it is scheduled before then). */
  schedule(task) {
    this.dirty.add(task);
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(this.run);
    }
  }

  /** Registers a hook that runs after every frame's tasks. */
  afterFrame(hook) {
    this.after.push(hook);
  }

  run() {
    this.pending = false;
    const tasks = [...this.dirty];
    this.dirty.clear();
    for (const task of tasks) task();
    for (const hook of this.after) hook();
  }
}
