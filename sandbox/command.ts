// Placeholder until the sandbox service lands; replaced by its real command.
import { defineCommand } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';

export const sandboxCommand = defineCommand({
  name: 'sandbox',
  summary: 'sandbox (not built yet)',
  flags: {},
  run: () => Promise.reject(new ControllerError('INTERNAL', 'sandbox is not built yet')),
});
