/** A positive whole number of milliseconds from the environment variable `name`, or `fallback`. */
export function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number of milliseconds, got "${raw}"`);
  return value;
}

/** Default bound of {@link eventually} (`TEST_WAIT_TIMEOUT_MS`, 15 s). */
export const defaultWaitTimeoutMs = (): number => envMs('TEST_WAIT_TIMEOUT_MS', 15_000);

/** Default bound of an app's start-up until `/health` answers (`E2E_START_TIMEOUT_MS`, 60 s). */
export const defaultStartTimeoutMs = (): number => envMs('E2E_START_TIMEOUT_MS', 60_000);
