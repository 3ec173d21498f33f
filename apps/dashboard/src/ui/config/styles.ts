// Class names shared by the editor's inputs.
export const inputClass =
  "h-9 rounded-md border-0 bg-white px-3 text-sm text-zinc-900 ring-1 ring-zinc-300 ring-inset placeholder:text-zinc-400 focus:ring-2 focus:ring-indigo-500 disabled:bg-zinc-50 disabled:text-zinc-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700 dark:disabled:bg-zinc-900 dark:aria-[invalid=true]:ring-red-400";
