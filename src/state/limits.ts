/**
 * Sizes the app refuses up front, with a reason, instead of crashing the tab. The limits come from
 * this device's memory and the browsers' canvas caps (src/features/inputs/memory-budget.ts).
 */
import { deviceBudget } from '../features/inputs/memory-budget.ts';
import { sizeProblem } from '../features/inputs/size-check.ts';

export function outputSizeProblem(width: number, height: number, scale: number): string | null {
  const problem = sizeProblem({ width, height }, scale, deviceBudget());
  return problem ? `${problem.message} Choose a smaller scale or a smaller image.` : null;
}
