// What a page gets: where to draw, the route, whether it is still shown, and where to register
// what must stop when it is left (timers).
export interface PageCtx {
  root: HTMLElement;
  /** Hash path parts after the page name's own, e.g. ['bindings', '<subsId>']. */
  parts: string[];
  query: URLSearchParams;
  alive(): boolean;
  onLeave(f: () => void): void;
  /** Draws the current page again (after a change that affects the header, e.g. reveal). */
  rerender(): void;
}

export type Page = (c: PageCtx) => void | Promise<void>;

/** Runs `f` now and every `ms` until the page is left; a slow answer never overlaps the next. */
export function every(c: PageCtx, ms: number, f: () => Promise<void>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      await f();
    } finally {
      if (c.alive()) timer = setTimeout(tick, ms);
    }
  };
  c.onLeave(() => clearTimeout(timer));
  void tick();
}
