// Placeholder until the extender service lands; replaced by its real command.
import { defineCommand } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';

export const extenderCommand = defineCommand({
  name: 'extender',
  summary: 'extender (not built yet)',
  flags: {},
  run: () => Promise.reject(new ControllerError('INTERNAL', 'extender is not built yet')),
});
