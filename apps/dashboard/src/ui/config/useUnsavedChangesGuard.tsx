"use client";
// Unsaved edits are not lost without a word. While `dirty`:
// - reload, close or a full navigation: the browser's own "Leave site?" prompt (beforeunload);
// - a click on a link that leaves this page (Next.js <Link> or a plain <a>), or on an element
//   marked `data-leaves-page` (Sign out): stopped before Next.js sees it, and a dialog asks;
//   "Leave" clicks the same element again, past the guard, so the navigation is the app's own.
// - the browser's Back (or Forward) button: a same-URL history entry is pushed while dirty, so
//   Back lands on this page again (Next.js restores the same tree) and the dialog asks; "Leave"
//   goes back once more. Saving or discarding takes the extra entry away again.
// The click is caught on window in the capture phase, before React's listeners on the document.
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { Button } from "../components/Button";
import { Dialog } from "../components/Dialog";

/** Does clicking `el` take the browser away from this page? */
export function leavesPage(el: Element, here: Location): boolean {
  if (el.hasAttribute("data-leaves-page")) return true;
  if (!(el instanceof HTMLAnchorElement) || el.hasAttribute("download")) return false;
  if (el.target && el.target !== "_self") return false; // a new tab keeps this one
  const to = new URL(el.href, here.href);
  return to.origin !== here.origin || to.pathname !== here.pathname || to.search !== here.search;
}

/** What the dialog would continue: a click on a link/button, or the browser's Back. */
type Pending = HTMLElement | "back";

const SENTINEL = "ipmasqUnsavedGuard";
const onSentinel = () =>
  Boolean((window.history.state as Record<string, unknown> | null)?.[SENTINEL]);

/** While dirty, an extra entry of this page on top of the history, so that Back can be asked. */
function useBackGuard(dirty: boolean, leaving: { current: boolean }, ask: () => void): void {
  useEffect(() => {
    if (!dirty) return;
    if (!onSentinel()) window.history.pushState({ [SENTINEL]: true }, "");
    const onPopState = () => {
      if (!leaving.current && !onSentinel()) ask();
    };
    window.addEventListener("popstate", onPopState);
    return () => {
      window.removeEventListener("popstate", onPopState);
      // Saved or discarded while still here: take the extra entry away.
      if (!leaving.current && onSentinel()) window.history.back();
    };
  }, [dirty, leaving, ask]);
}

/** Returns the confirmation dialog to render (null while nothing is pending). */
export function useUnsavedChangesGuard(dirty: boolean): ReactNode {
  const [pending, setPending] = useState<Pending | null>(null);
  const leaving = useRef(false);
  const askBack = useCallback(() => setPending("back"), []);
  useBackGuard(dirty, leaving, askBack);

  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (leaving.current) return;
      e.preventDefault();
      e.returnValue = ""; // older browsers need it set to show the prompt
    };
    const onClick = (e: MouseEvent) => {
      if (leaving.current || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey)
        return;
      const el = (e.target as Element | null)?.closest<HTMLElement>("a[href], [data-leaves-page]");
      if (!el || !leavesPage(el, window.location)) return;
      e.preventDefault();
      e.stopPropagation();
      setPending(el);
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    window.addEventListener("click", onClick, true);
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      window.removeEventListener("click", onClick, true);
    };
  }, [dirty]);

  if (!pending) return null;
  const stay = () => {
    // Back already left the extra entry: put it back for the next Back.
    if (pending === "back") window.history.pushState({ [SENTINEL]: true }, "");
    setPending(null);
  };
  const leave = () => {
    setPending(null);
    leaving.current = true;
    if (pending === "back") window.history.back();
    else pending.click();
  };
  return (
    <Dialog
      open
      title="Leave without saving?"
      description="Your edits to the config are not saved. Leaving this page discards them."
      onClose={stay}
      footer={
        <>
          <Button variant="danger" onClick={leave}>
            Discard edits and leave
          </Button>
          <Button variant="primary" onClick={stay} autoFocus>
            Stay and keep editing
          </Button>
        </>
      }
    >
      <p className="text-sm">Save them first, or discard them with “Discard changes”.</p>
    </Dialog>
  );
}
