"use client";
import type { Me } from "@masq/shared";
import { useQuery } from "@tanstack/react-query";
import { endpoints } from "../api/endpoints";

export function useMe() {
  return useQuery<Me>({
    queryKey: ["me"],
    queryFn: ({ signal }) => endpoints.me(signal),
    staleTime: 60_000,
  });
}

/** Editors may change things; until /api/me answers, nobody may. */
export function useCanEdit(): boolean {
  const me = useMe();
  return me.data?.role === "editor";
}
