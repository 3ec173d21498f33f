// The tester's answer and the rest of the node page must read the same rules. The page follows
// the node (its detail is fetched again when the node changes); an answer is computed once, so
// after the node reports new rules (a rule added in another backend, which its reporter may
// read some seconds later) it would still show what the old rules did, beside a "What differs"
// that already shows the new ones. When the rules the page shows are not the ones the answer
// came from, the tester asks again, once per report.

export interface AnswerRules {
  /** When the rules the shown answer came from arrived (EvaluateResponse.rules.lastReportAt). */
  answered: number | null;
  /** When the rules the page shows arrived (the node's lastReportAt). */
  current: number | null;
  /** The report already asked again for (at most once each, whatever the server answers). */
  reasked: number | null;
}

/** True when the shown answer is from older rules than the page shows and not yet asked again. */
export function askAgain(r: AnswerRules): boolean {
  if (r.current === null || r.current === r.answered) return false;
  return r.reasked !== r.current;
}
