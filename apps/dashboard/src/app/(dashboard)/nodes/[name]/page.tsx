import type { Metadata } from "next";
import { NodeView } from "../../../../ui/node/NodeView";

type Props = { params: Promise<{ name: string }> };

/** Node names are DNS names; tolerate either an encoded or a decoded segment. */
function nodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: nodeName((await params).name) };
}

export default async function NodePage({ params }: Props) {
  const name = nodeName((await params).name);
  return <NodeView key={name} name={name} />;
}
