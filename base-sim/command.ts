// Placeholder until the base-sim service lands; replaced by its real command.
import { defineCommand } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';

export const baseSimCommand = defineCommand({
  name: 'base-sim',
  summary: 'base-sim (not built yet)',
  flags: {},
  run: () => Promise.reject(new ControllerError('INTERNAL', 'base-sim is not built yet')),
});
