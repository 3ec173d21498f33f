"use client";
// The tester's optional packet fields (collapsed by default): what `ipmasq why` takes besides
// the destination. A field left empty stays unknown and the answer says what it depends on.
import { type ReactNode, useId } from "react";
import { type PacketInput, PROTOCOLS } from "./packet-request";

const FIELD =
  "h-8 w-full rounded-md border-0 bg-white px-2 font-mono text-sm ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-950 dark:ring-zinc-700";

function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: (id: string) => ReactNode;
}) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id} className="text-xs font-medium text-zinc-700 dark:text-zinc-300">
        {label}
      </label>
      {children(id)}
      {hint ? <p className="mt-0.5 text-[11px] text-zinc-500 dark:text-zinc-400">{hint}</p> : null}
    </div>
  );
}

export function PacketFields({
  value,
  onChange,
}: {
  value: PacketInput;
  onChange: (v: PacketInput) => void;
}) {
  const set = (k: keyof PacketInput) => (e: { target: { value: string } }) =>
    onChange({ ...value, [k]: e.target.value });
  return (
    <details className="mt-2 text-sm">
      <summary className="cursor-pointer text-xs text-zinc-600 select-none hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100">
        Packet details (optional): source, protocol, port, mark
      </summary>
      <div className="mt-2 grid grid-cols-2 gap-2">
        <Field label="Source pod IP">
          {(id) => (
            <input
              id={id}
              value={value.source}
              onChange={set("source")}
              placeholder="any"
              spellCheck={false}
              autoComplete="off"
              className={FIELD}
            />
          )}
        </Field>
        <Field label="Protocol">
          {(id) => (
            <select id={id} value={value.protocol} onChange={set("protocol")} className={FIELD}>
              <option value="">any</option>
              {PROTOCOLS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Destination port">
          {(id) => (
            <input
              id={id}
              value={value.dport}
              onChange={set("dport")}
              placeholder="any"
              inputMode="numeric"
              autoComplete="off"
              className={FIELD}
            />
          )}
        </Field>
        <Field label="Mark" hint="in POSTROUTING; kube-proxy sets 0x4000 on traffic it SNATs">
          {(id) => (
            <input
              id={id}
              value={value.mark}
              onChange={set("mark")}
              placeholder="unknown, e.g. 0"
              spellCheck={false}
              autoComplete="off"
              className={FIELD}
            />
          )}
        </Field>
      </div>
    </details>
  );
}
