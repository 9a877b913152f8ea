/**
 * The filter's answer names the list prioritize will receive: kube-scheduler sends the extender's
 * feasible nodes, in the order answered, to its prioritize verb for the same pod. So after a
 * names-mode filter answer its feasible list is remembered by its bytes as a part of the full list
 * (node-list-cache.ts, sub-list.ts): the prioritize that follows is recognised with one memcmp,
 * resolved against the snapshot by position and answered by copying runs of the full list's
 * pre-encoded bytes, instead of parsing, looking up and encoding thousands of names anew — which
 * had been most of a Deployment's scale-up cost per replica at 5,000 nodes (bench/extender.ts).
 *
 * Only the list is reused, never a verdict or a score: prioritize still reads the snapshot as it is
 * then (an assumption or a bind may have come in between), so its answer is the one it would have
 * given without this.
 */
import type { FilterPlan } from './decisions.ts';
import { toBytesText, type NodeListCache } from './node-list-cache.ts';
import { ListWire, toFeasibleListBytes } from './wire.ts';

export function rememberFeasibleList(lists: NodeListCache, plan: FilterPlan, answer: Buffer): void {
  if (!plan.answerNames || plan.nodes || plan.rejections.fitCount === 0) return;
  // The same runs the answer was written from (filter-nodes.ts Verdicts.fitRuns): no pass per node.
  const runs = plan.rejections.fitRuns();
  // A recurring full list has its bytes encoded (wire.ts): the part is compared against them in
  // place. The first time, the answer's own bytes are copied.
  if (ListWire.known(plan.names)) {
    lists.rememberPart(ListWire.of(plan.names).partText(runs), plan.names, runs);
    return;
  }
  const bytes = toFeasibleListBytes(answer);
  if (bytes) lists.rememberPart(toBytesText(bytes), plan.names, runs);
}
