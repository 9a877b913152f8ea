// Placeholder until the bridge service lands; replaced by its real command.
import { defineCommand } from '../core/command.ts';
import { ControllerError } from '../core/errors.ts';

export const bridgeCommand = defineCommand({
  name: 'bridge',
  summary: 'bridge (not built yet)',
  flags: {},
  run: () => Promise.reject(new ControllerError('INTERNAL', 'bridge is not built yet')),
});
