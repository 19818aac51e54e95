/** The injected time source: services and timers take one so tests can drive time. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
