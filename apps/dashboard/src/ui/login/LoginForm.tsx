"use client";
import { isSessionEndReason, SESSION_END_MESSAGE } from "@masq/shared";
import { type FormEvent, useEffect, useId, useState } from "react";
import { ApiError, errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { LockIcon } from "../components/icons";
import { safeNext } from "./next";

export function LoginForm() {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ended = useSessionEnded();
  const id = useId();
  const errId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) {
      setError("Enter a token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await endpoints.login(token.trim());
      const next = new URLSearchParams(window.location.search).get("next");
      window.location.assign(safeNext(next, window.location.origin));
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setError(
          "That token was not accepted. Check that you copied all of it, and that it has not expired.",
        );
      } else {
        setError(errorMessage(err));
      }
    }
  };

  return (
    <div className="w-full max-w-md">
      <div className="mb-6 flex items-center gap-3">
        <span
          className="grid size-10 place-items-center rounded-lg bg-indigo-600 text-sm font-bold text-white"
          aria-hidden="true"
        >
          IP
        </span>
        <div>
          <h1 className="text-lg font-semibold text-zinc-900 dark:text-zinc-50">
            Sign in to masq-dashboard
          </h1>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            IP masquerading across your cluster&apos;s nodes
          </p>
        </div>
      </div>
      <form
        onSubmit={submit}
        noValidate
        className="space-y-4 rounded-xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
        <div>
          <label
            htmlFor={id}
            className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200"
          >
            Token
          </label>
          <input
            id={id}
            type="password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoComplete="current-password"
            spellCheck={false}
            aria-invalid={Boolean(error)}
            aria-describedby={`${errId} ${id}-help`}
            className="h-10 w-full rounded-md border-0 bg-white px-3 font-mono text-sm ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:ring-zinc-700"
          />
        </div>
        <div id={errId}>
          {ended && !error ? (
            <Callout tone="warning" role="status">
              {SESSION_END_MESSAGE[ended]}
            </Callout>
          ) : null}
          {error ? (
            <Callout tone="error" role="alert">
              {error}
            </Callout>
          ) : null}
        </div>
        <Button
          type="submit"
          variant="primary"
          busy={busy}
          className="w-full"
          icon={<LockIcon className="size-4" />}
        >
          Sign in
        </Button>
        <div
          id={`${id}-help`}
          className="space-y-2 border-t border-zinc-100 pt-4 text-sm text-zinc-600 dark:border-zinc-800 dark:text-zinc-400"
        >
          <p>
            <strong className="text-zinc-800 dark:text-zinc-200">Standalone:</strong> paste the
            admin token the dashboard was started with (
            <code className="font-mono text-xs">IPMASQ_ADMIN_TOKEN</code>), or the viewer token for
            read-only access.
          </p>
          <p>
            <strong className="text-zinc-800 dark:text-zinc-200">Kubernetes:</strong> paste a bearer
            token, e.g. from <code className="font-mono text-xs">kubectl create token NAME</code>.
            Your RBAC on the <code className="font-mono text-xs">ip-masq-agent</code> ConfigMap
            decides whether you can edit (update) or only view (get).
          </p>
          <p className="text-xs">
            The token is exchanged for a session cookie; it is not stored in the browser.
          </p>
        </div>
      </form>
    </div>
  );
}

/** Why the last session ended (`?ended=`), read after hydration; null when not said. */
function useSessionEnded() {
  const [ended, setEnded] = useState<keyof typeof SESSION_END_MESSAGE | null>(null);
  useEffect(() => {
    const r = new URLSearchParams(window.location.search).get("ended");
    setEnded(isSessionEndReason(r) ? r : null);
  }, []);
  return ended;
}
