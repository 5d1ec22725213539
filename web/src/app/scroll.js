// Auto-scroll that follows a streaming answer, stops as soon as the person scrolls up,
// and offers a jump-to-bottom button until they are back at the bottom.

const SLACK = 32; // px from the bottom that still count as "at the bottom"

export class AutoScroll {
  /**
   * @param {HTMLElement} scroller the scrolling container
   * @param {HTMLButtonElement} jump the jump-to-bottom button
   */
  constructor(scroller, jump) {
    this.el = scroller;
    this.jump = jump;
    this.follow = true;
    this.lastTop = scroller.scrollTop;
    scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // A wheel turned up means "let me read": stop following at once, before the next
    // frame scrolls back down.
    scroller.addEventListener(
      'wheel',
      (event) => {
        if (event.deltaY < 0 && this.scrollable()) this.stopFollowing();
      },
      { passive: true },
    );
    jump.addEventListener('click', () => {
      this.follow = true;
      this.toBottom('smooth');
    });
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => this.afterFrame()).observe(scroller);
    }
  }

  scrollable() {
    return this.el.scrollHeight > this.el.clientHeight + 1;
  }

  atBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.el;
    return scrollHeight - scrollTop - clientHeight <= SLACK;
  }

  stopFollowing() {
    this.follow = false;
    this.updateButton();
  }

  onScroll() {
    const top = this.el.scrollTop;
    if (this.atBottom()) this.follow = true;
    else if (top < this.lastTop - 1) this.follow = false;
    this.lastTop = top;
    this.updateButton();
  }

  /** Follow the stream: called after each frame's DOM updates. */
  afterFrame() {
    if (this.follow) this.toBottom('instant');
    this.updateButton();
  }

  /** Jump to the end (a new message was sent: follow again). */
  reset() {
    this.follow = true;
    this.toBottom('instant');
    this.updateButton();
  }

  toBottom(behavior) {
    this.el.scrollTo({ top: this.el.scrollHeight, behavior });
    this.lastTop = this.el.scrollTop;
  }

  updateButton() {
    this.jump.hidden = this.follow || this.atBottom();
  }
}
