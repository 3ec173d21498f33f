"use client";
import type { ReactNode } from "react";
import { ApiError, errorMessage, isOutage } from "../api/client";
import { Button } from "./Button";
import { Callout } from "./Callout";
import { RefreshIcon } from "./icons";

/** A full-width error state: says what failed and what to do, with a retry. */
export function ErrorState({
  error,
  what,
  onRetry,
}: {
  error: unknown;
  what: string;
  onRetry?: () => void;
}) {
  const outage = isOutage(error);
  const notFound = error instanceof ApiError && error.status === 404;
  const title = notFound
    ? `${what} was not found`
    : outage
      ? `The dashboard cannot load ${what}`
      : `Could not load ${what}`;
  return (
    <Callout
      tone="error"
      role="alert"
      title={title}
      actions={
        onRetry && !notFound ? (
          <Button size="sm" onClick={onRetry} icon={<RefreshIcon className="size-3.5" />}>
            Try again
          </Button>
        ) : undefined
      }
    >
      <p>{errorMessage(error)}</p>
      {notFound ? (
        <p className="mt-1 opacity-80">It may have been removed, or it has never connected.</p>
      ) : null}
      {outage ? (
        <p className="mt-1 opacity-80">
          The dashboard server or its config store is not reachable. Check that the dashboard
          process is running and that its store (the data directory, or the Kubernetes API in
          cluster mode) is available.
        </p>
      ) : null}
    </Callout>
  );
}

export function EmptyState({
  icon,
  title,
  children,
}: {
  icon?: ReactNode;
  title: string;
  children?: ReactNode;
}) {
  return (
    <div className="flex flex-col items-center rounded-xl border border-dashed border-zinc-300 px-6 py-12 text-center dark:border-zinc-700">
      {icon ? <div className="mb-3 text-zinc-400 dark:text-zinc-500">{icon}</div> : null}
      <h2 className="text-base font-semibold text-zinc-900 dark:text-zinc-100">{title}</h2>
      {children ? (
        <div className="mt-2 max-w-xl text-sm text-zinc-600 dark:text-zinc-400">{children}</div>
      ) : null}
    </div>
  );
}

export function Skeleton({ className }: { className?: string }) {
  return (
    <div
      className={`animate-pulse rounded-md bg-zinc-200 dark:bg-zinc-800 ${className ?? "h-4 w-full"}`}
    />
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-xl font-semibold tracking-tight text-zinc-900 break-words dark:text-zinc-50">
          {title}
        </h1>
        {description ? (
          <div className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</div>
        ) : null}
      </div>
      {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
    </div>
  );
}

/** Placeholder while something loads, announced politely to screen readers. */
export function LoadingBlock({
  label,
  children,
  className,
}: {
  label: string;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div role="status" aria-busy="true" className={className ?? "space-y-3"}>
      <span className="sr-only">{label}</span>
      {children}
    </div>
  );
}
