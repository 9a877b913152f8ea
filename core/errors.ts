/**
 * The error catalogue: every failure the services report carries one of these stable codes, so logs,
 * metrics and users can match on them. Kept honest by test/core/errors.test.ts.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'configuration is invalid',
  ADMISSION_BAD_REQUEST: 'the AdmissionReview could not be decoded',
  EXTENDER_BAD_REQUEST: 'the ExtenderArgs could not be decoded',
  EXTENDER_UNAUTHORIZED: 'an extender request came without a valid client certificate',
  MQTT_BAD_PAYLOAD: 'an MQTT payload could not be decoded',
  MQTT_STALE: 'an MQTT message was older than the accepted age',
  MQTT_UNAVAILABLE: 'the MQTT broker could not be reached',
  MQTT_CLOCK_SKEW: 'an MQTT message\'s publishTimestamp was further in the future than --max-clock-skew',
  MQTT_RETAINED: 'a retained base message was ignored (bases never publish retained)',
  MQTT_IDENTITY_MISMATCH: 'a base message named another identity than its topic',
  BRIDGE_NOT_OWNER: 'a command was not sent: this bridge replica does not serve the base (its shard is held elsewhere or not renewed)',
  KUBE_UNAVAILABLE: 'the Kubernetes API could not be reached',
  KUBE_CONFLICT: 'a Kubernetes write conflicted with a newer object',
  CERT_FAILED: 'a certificate could not be created or loaded',
  CONTROL_PLANE_FAILED: 'the local control plane could not be started',
  INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ControllerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControllerError';
    this.code = code;
  }
}

/**
 * Log-friendly fields for any thrown value (never JSON.stringify an Error). An Error's stack rides
 * along as a non-enumerable property: left out of equality checks and JSON, written to the log by
 * core/logger.ts (`{ err: toErrorFields(e) }` shows where it came from).
 */
export function toErrorFields(err: unknown): { code: string; message: string; cause?: string } {
  const withStack = <T extends object>(fields: T): T => {
    if (err instanceof Error && err.stack) Object.defineProperty(fields, 'stack', { value: err.stack, enumerable: false });
    return fields;
  };
  if (err instanceof ControllerError) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return withStack(cause ? { code: err.code, message: err.message, cause } : { code: err.code, message: err.message });
  }
  if (err instanceof Error) return withStack({ code: 'INTERNAL', message: err.message });
  return { code: 'INTERNAL', message: String(err) };
}
