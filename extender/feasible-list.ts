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
import type { NodeListCache } from './node-list-cache.ts';
import { toFeasibleListBytes } from './wire.ts';

export function rememberFeasibleList(lists: NodeListCache, plan: FilterPlan, answer: Buffer): void {
  if (!plan.answerNames || plan.nodes || plan.rejections.fitCount === 0) return;
  const bytes = toFeasibleListBytes(answer);
  if (!bytes) return;
  const positions = new Int32Array(plan.rejections.fitCount);
  let k = 0;
  for (let i = 0; i < plan.names.length; i++) if (plan.rejections.fits(i)) positions[k++] = i;
  lists.rememberPart(bytes, plan.names, positions);
}
