"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { errorMessage, isOutage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { HistoryIcon, LogOutIcon, ServerIcon, SlidersIcon } from "../components/icons";
import { useConnection, useLiveStream } from "../live/live";
import { useMe } from "./me";
import { ServerProblems } from "./ServerProblems";

const NAV = [
  { href: "/", label: "Fleet", icon: ServerIcon },
  { href: "/config", label: "Config", icon: SlidersIcon },
  { href: "/history", label: "History", icon: HistoryIcon },
] as const;

function isActive(pathname: string, href: string): boolean {
  if (href === "/") return pathname === "/" || pathname.startsWith("/nodes/");
  return pathname === href || pathname.startsWith(`${href}/`);
}

function ConnectionDot() {
  const c = useConnection();
  const meta = {
    live: { dot: "bg-emerald-500", text: "Live" },
    connecting: { dot: "bg-zinc-400 animate-pulse", text: "Connecting…" },
    reconnecting: { dot: "bg-amber-500 animate-pulse", text: "Reconnecting…" },
    polling: { dot: "bg-amber-500", text: "Polling (no live stream)" },
  }[c];
  return (
    <span
      className="hidden items-center gap-1.5 text-xs whitespace-nowrap text-zinc-600 sm:inline-flex dark:text-zinc-400"
      title="Live updates from the dashboard"
    >
      <span className={`size-2 rounded-full ${meta.dot}`} aria-hidden="true" />
      {meta.text}
    </span>
  );
}

async function signOut() {
  try {
    await endpoints.logout();
  } finally {
    window.location.assign("/login");
  }
}

export function AppShell({ children }: { children: ReactNode }) {
  useLiveStream();
  const pathname = usePathname() ?? "/";
  const me = useMe();
  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:shadow dark:focus:bg-zinc-900"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
        {/* Phones: the logo and Sign out on the first line, the navigation on its own below. */}
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-1 px-4 py-2 sm:h-14 sm:flex-nowrap sm:px-6 sm:py-0">
          <Link
            href="/"
            className="flex items-center gap-2 font-semibold text-zinc-900 dark:text-zinc-50"
          >
            <span
              className="grid size-7 place-items-center rounded-md bg-indigo-600 text-xs font-bold text-white"
              aria-hidden="true"
            >
              IP
            </span>
            <span className="hidden whitespace-nowrap lg:inline">masq-dashboard</span>
          </Link>
          <nav
            aria-label="Main"
            className="order-last flex w-full items-center gap-1 sm:order-none sm:w-auto"
          >
            {NAV.map(({ href, label, icon: I }) => {
              const active = isActive(pathname, href);
              return (
                <Link
                  key={href}
                  href={href}
                  aria-current={active ? "page" : undefined}
                  className={`inline-flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                    active
                      ? "bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                      : "text-zinc-600 hover:bg-zinc-50 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-900 dark:hover:text-zinc-100"
                  }`}
                >
                  <I className="size-4" />
                  {label}
                </Link>
              );
            })}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            <ConnectionDot />
            {me.data ? (
              <span
                className="hidden rounded-full bg-zinc-100 px-2 py-0.5 text-xs whitespace-nowrap text-zinc-700 lg:inline dark:bg-zinc-800 dark:text-zinc-300"
                title={`Signed in as ${me.data.user}`}
              >
                {me.data.user === me.data.role ? me.data.role : `${me.data.user} · ${me.data.role}`}
              </span>
            ) : null}
            <button
              type="button"
              data-leaves-page
              onClick={() => void signOut()}
              className="inline-flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm whitespace-nowrap text-zinc-600 hover:bg-zinc-50 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-400 dark:hover:bg-zinc-900 dark:hover:text-zinc-100"
            >
              <LogOutIcon className="size-4" />
              Sign out
            </button>
          </div>
        </div>
        {me.isError && isOutage(me.error) ? (
          <div
            role="alert"
            className="border-t border-red-200 bg-red-50 px-4 py-2 text-center text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
          >
            Cannot reach the dashboard API: {errorMessage(me.error)}
          </div>
        ) : null}
        <ServerProblems />
      </header>
      <main id="main" className="mx-auto w-full max-w-7xl flex-1 px-4 py-6 sm:px-6">
        {children}
      </main>
    </div>
  );
}
