import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-3 px-4 text-center">
      <p className="text-sm font-semibold text-indigo-600 dark:text-indigo-400">404</p>
      <h1 className="text-xl font-semibold">This page does not exist</h1>
      <Link href="/" className="text-sm text-indigo-700 underline dark:text-indigo-300">
        Back to the fleet
      </Link>
    </main>
  );
}
