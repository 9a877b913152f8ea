// Placeholder until the webhook service lands; replaced by its real command.
import { defineCommand } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';

export const webhookCommand = defineCommand({
  name: 'webhook',
  summary: 'webhook (not built yet)',
  flags: {},
  run: () => Promise.reject(new ControllerError('INTERNAL', 'webhook is not built yet')),
});
